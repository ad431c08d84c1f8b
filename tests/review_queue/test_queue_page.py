"""The queue page: filters, search, sorting, pages, and bulk actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from review_queue.models import ReviewItem
from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, office_staff):
    client.force_login(office_staff)
    return office_staff


def listed(client, **params) -> list[str]:
    response = client.get(reverse("review_queue:list"), params)
    assert response.status_code == 200
    return [item.title for item in response.context["page"].object_list]


def test_it_filters_by_kind_and_system(client, staff):
    ReviewItemFactory(title="A", kind="connection", system="xero")
    ReviewItemFactory(title="B", kind="missing_data", system="hubspot")
    assert listed(client, kind="connection") == ["A"]
    assert listed(client, system="hubspot") == ["B"]


def test_it_searches_by_customer_job_or_invoice_number(client, staff):
    ReviewItemFactory(title="Invoice for J-1042", record_label="Harbour View Cafe")
    ReviewItemFactory(title="Something else", record_label="Kestrel Property")
    assert listed(client, q="harbour") == ["Invoice for J-1042"]
    assert listed(client, q="J-1042") == ["Invoice for J-1042"]


def test_it_filters_by_age_and_record(client, staff):
    old = ReviewItemFactory(title="Old", record_ref="77")
    ReviewItem.objects.filter(pk=old.pk).update(first_seen=timezone.now() - timedelta(days=9))
    ReviewItemFactory(title="New")
    assert listed(client, age="old") == ["Old"]
    assert listed(client, age="1h") == ["New"]
    assert listed(client, record="deal:77") == ["Old"]


def test_it_shows_closed_items_only_when_asked(client, staff):
    ReviewItemFactory(title="Open")
    ReviewItemFactory(title="Done", status="resolved", root_key="other")
    assert listed(client) == ["Open"]
    assert listed(client, status="resolved") == ["Done"]
    assert sorted(listed(client, status="all")) == ["Done", "Open"]


def test_it_sorts_and_pages(client, staff):
    for n in range(30):
        ReviewItemFactory(title=f"Item {n:02d}", occurrences=n)
    first_page = listed(client, sort="-occurrences")
    assert len(first_page) == 25 and first_page[0] == "Item 29"
    second_page = listed(client, sort="-occurrences", page=2)
    assert second_page == [f"Item {n:02d}" for n in range(4, -1, -1)]


def test_htmx_requests_get_only_the_table(client, staff):
    ReviewItemFactory(title="Only")
    response = client.get(reverse("review_queue:list"), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "Only" in page and "<html" not in page


def test_bulk_dismiss_and_assign(client, staff):
    items = ReviewItemFactory.create_batch(3)
    pick = [str(i.pk) for i in items[:2]]
    client.post(
        reverse("review_queue:bulk"), {"items": pick, "action": "assign", "assignee": staff.pk}
    )
    assert ReviewItem.objects.filter(assignee=staff).count() == 2
    assert listed(client, assignee="me") == [items[1].title, items[0].title]
    response = client.post(
        reverse("review_queue:bulk"),
        {"items": pick, "action": "dismiss", "note": "Test data."},
        follow=True,
    )
    assert "Done for 2 items." in response.content.decode()
    assert ReviewItem.objects.filter(status="dismissed").count() == 2
    assert items[0].log.filter(action="dismiss", by=staff).exists()


def test_bulk_actions_explain_what_was_refused(client, staff):
    item = ReviewItemFactory()
    response = client.post(
        reverse("review_queue:bulk"), {"items": [item.pk], "action": "retry"}, follow=True
    )
    assert "is not something that can be done" in response.content.decode()
    assert item.log.get().succeeded is False
