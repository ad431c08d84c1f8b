"""The home page: open items by kind, handoff success, connections, queue over time."""

import pytest
from django.urls import reverse

from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


def test_home_counts_open_items_by_kind_and_flags_a_connection_to_reconnect(client, office_staff):
    client.force_login(office_staff)
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


def test_home_shows_each_xero_organisation_with_token_age_and_headroom(client, office_staff):
    from datetime import timedelta

    from django.utils import timezone

    from connectors.models import XeroConnection

    client.force_login(office_staff)
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "Not connected" in page  # no organisation yet: the row says so
    XeroConnection.objects.create(
        tenant_id="t-1",
        tenant_name="Demo Trades Pty Ltd",
        minute_remaining=57,
        day_remaining=4988,
        refreshed_at=timezone.now() - timedelta(minutes=12),
        last_success_at=timezone.now(),
    )
    XeroConnection.objects.create(
        tenant_id="t-2", tenant_name="Brisbane", status="reconnect_needed"
    )
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "Xero: Demo Trades Pty Ltd" in page and "57 calls left this minute, 4988 today" in page
    assert "12\xa0minutes ago" in page
    assert "Xero: Brisbane" in page and "Reconnect needed" in page


def test_an_organisation_with_an_open_reconnect_item_is_never_shown_connected(
    client, django_user_model
):
    from connectors.models import XeroConnection

    client.force_login(django_user_model.objects.create_user("boss", is_staff=True))
    XeroConnection.objects.create(tenant_id="t-1", tenant_name="Demo Trades Pty Ltd")
    XeroConnection.objects.create(tenant_id="t-2", tenant_name="Brisbane")
    item = ReviewItemFactory(
        kind="connection",
        system="xero",
        root_key="connection:xero:reconnect:t-1",
        details={"organisations": ["Demo Trades Pty Ltd"], "tenant_ids": ["t-1"]},
    )
    rows = {c.name: c for c in client.get(reverse("dashboard:home")).context["connections"]}
    demo, brisbane = rows["Xero: Demo Trades Pty Ltd"], rows["Xero: Brisbane"]
    assert (demo.needs_reconnect, demo.item, demo.status_label) == (True, item, "Reconnect needed")
    assert (brisbane.needs_reconnect, brisbane.status_label) == (False, "Connected")
    page = client.get("/settings/xero/").content.decode()
    assert page.count('"badge bad">Reconnect needed') == 1
    assert f"/review/{item.pk}/" in page


def test_a_hubspot_connection_marked_for_reconnecting_shows_so_with_no_item(client, office_staff):
    from datetime import timedelta

    from django.utils import timezone

    from connectors.models import HubSpotConnection

    client.force_login(office_staff)
    seen = timezone.now() - timedelta(minutes=5)
    HubSpotConnection.objects.create(kind="oauth", hub_id=62515, last_success_at=seen)
    hubspot = next(c for c in client.get("/").context["connections"] if c.system == "hubspot")
    assert (hubspot.needs_reconnect, hubspot.last_success) == (False, seen)
    HubSpotConnection.objects.update(status="reconnect_needed")
    hubspot = next(c for c in client.get("/").context["connections"] if c.system == "hubspot")
    assert hubspot.needs_reconnect and hubspot.item is None
