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


def status_line(client, **params) -> str:
    response = client.get(reverse("review_queue:list"), params)
    return response.content.decode().split('role="status">', 1)[1].split("</p>", 1)[0]


def test_it_counts_exactly_up_to_the_cap_then_says_more_than(client, staff, monkeypatch):
    for n in range(30):
        ReviewItemFactory(title=f"Item {n:02d}")
    assert status_line(client) == "30 items, page 1 of 2."
    monkeypatch.setattr("review_queue.selectors.COUNT_CAP", 5)
    # Past the cap the first page says "more than" what it knows: 30 > 25 shown so far.
    assert status_line(client) == "More than 25 items (not counted to the end), page 1."
    # The last page knows the whole count without counting.
    assert status_line(client, page=2) == "30 items, page 2 of 2."


def test_a_page_past_the_end_says_so_instead_of_showing_another(client, staff):
    for n in range(30):
        ReviewItemFactory(title=f"Item {n:02d}")
    response = client.get(reverse("review_queue:list"), {"page": "1000"})
    assert response.status_code == 404
    assert response.context["page"].number == 1000 and not response.context["page"].object_list
    text = response.content.decode()
    assert "There is no page 1,000: these filters match 30 items, 2 pages." in text
    assert "page=2" in text  # a link to the last page


def test_a_page_that_is_not_a_number_is_the_first(client, staff):
    ReviewItemFactory(title="Only")
    for page in ("abc", "0", "-3", "99999999999999"):
        response = client.get(reverse("review_queue:list"), {"page": page})
        assert response.status_code == 200 and response.context["page"].number == 1, page


def test_search_finds_words_inside_titles_names_and_reasons_in_any_case(client, staff):
    ReviewItemFactory(title="Invoice for job J-54321", record_ref="900", root_key="a")
    ReviewItemFactory(title="Other", record_label="Harbour View Cafe", root_key="b")
    ReviewItemFactory(title="Third", reason="The billing address differs.", root_key="c")
    ReviewItemFactory(title="Fourth", record_ref="ABC-77", root_key="d")
    assert listed(client, q="j-5432") == ["Invoice for job J-54321"]
    assert listed(client, q="VIEW caf") == ["Other"]
    assert listed(client, q="Billing Address") == ["Third"]
    assert listed(client, q="abc-77") == ["Fourth"]  # a record id matches whole, any case
    assert listed(client, q="abc-7") == []


def test_the_search_is_answered_by_the_trigram_indexes():
    """Django's icontains (UPPER(col) LIKE UPPER(...)) must match the indexes' expressions,
    or a million items are scanned one by one."""
    from django.db import connection

    from review_queue.selectors import QueueFilter, review_items_filtered

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    plan = review_items_filtered(QueueFilter(status="all", q="harbour")).explain()
    for index in ("item_title_trgm", "item_record_label_trgm", "item_reason_trgm"):
        assert index in plan, plan
    assert "item_record_upper" in plan, plan
