"""The home page: open items by kind, handoff success, connections, queue over time."""

import pytest
from django.urls import reverse

from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


def test_home_counts_open_items_by_kind_and_flags_a_connection_to_reconnect(
    client, django_user_model
):
    client.force_login(django_user_model.objects.create_user("boss"))
    ReviewItemFactory.create_batch(2)
    ReviewItemFactory(kind="connection", root_key="connection:hubspot:auth", record_ref="")
    response = client.get(reverse("dashboard:home"))
    page = response.content.decode()
    assert response.context["open_total"] == 3
    kinds = {row["kind"]: row["total"] for row in response.context["kinds"]}
    assert kinds == {"missing_data": 2, "connection": 1}
    hubspot = next(c for c in response.context["connections"] if c.system == "hubspot")
    assert hubspot.needs_reconnect
    assert "Reconnect needed" in page
    assert response.context["series"][-1]["depth"] == 3
