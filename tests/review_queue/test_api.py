"""The review queue API: staff only, token auth, resolve and assign, an OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from handoffs.models import HandoffRun
from review_queue import selectors
from review_queue.models import ReviewItem
from tests.helpers import api_for
from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(office_staff):
    return office_staff


@pytest.fixture
def api(staff):
    return api_for(staff)


def test_anonymous_and_non_staff_users_are_refused(django_user_model):
    ReviewItemFactory()
    assert APIClient().get("/api/review-items/").status_code == 401
    outsider = APIClient()
    outsider.force_authenticate(django_user_model.objects.create_user("customer"))
    response = outsider.get("/api/review-items/")
    assert response.status_code == 403
    assert "Office staff" in response.json()["detail"]


def test_staff_list_items_with_the_queue_filters(api):
    ReviewItemFactory(kind="connection", title="Reconnect Xero", system="xero")
    ReviewItemFactory(title="Other")
    body = api.get("/api/review-items/", {"kind": "connection"}).json()
    assert [row["title"] for row in body["results"]] == ["Reconnect Xero"]
    assert body["results"][0]["actions"] == [
        {"name": "dismiss", "label": "Dismiss", "fields": ["note"]}
    ]


def test_pages_count_up_to_the_cap_and_a_page_past_the_end_is_not_found(api, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for n in range(5):
        ReviewItemFactory(title=f"Item {n}")
    first = api.get("/api/review-items/", {"page_size": 2}).json()
    assert (first["count"], first["count_exact"], len(first["results"])) == (3, False, 2)
    assert first["previous"] is None and "page=2" in first["next"]
    last = api.get("/api/review-items/", {"page_size": 2, "page": 3}).json()
    assert (last["count"], last["count_exact"], last["next"]) == (5, True, None)
    past = api.get("/api/review-items/", {"page_size": 2, "page": 4})
    assert past.status_code == 404 and "There are 3 pages" in past.json()["detail"]


def test_a_page_is_read_in_a_few_queries_and_offers_retry_where_runs_wait(
    api, django_assert_max_num_queries
):
    items = [ReviewItemFactory(kind="handoff_failed") for _ in range(30)]
    HandoffRun.objects.create(
        handoff="deal_won_to_job",
        key="deal:1",
        record_system="hubspot",
        record_type="deal",
        record_ref="1",
        state=HandoffRun.State.NEEDS_REVIEW,
        review_item=items[0],
    )
    with django_assert_max_num_queries(5):  # who asks, the page's ids, its rows
        body = api.get("/api/review-items/").json()
    offered = {row["id"]: [a["name"] for a in row["actions"]] for row in body["results"]}
    assert offered[items[0].pk] == ["retry", "dismiss"]
    assert offered[items[1].pk] == ["dismiss"]


def test_staff_dismiss_and_assign_through_the_api(api, staff):
    item = ReviewItemFactory()
    assert (
        api.post(
            f"/api/review-items/{item.pk}/assign/", {"assignee": "ops"}, format="json"
        ).status_code
        == 200
    )
    refused = api.post(
        f"/api/review-items/{item.pk}/resolve/", {"action": "dismiss"}, format="json"
    )
    assert refused.status_code == 400
    assert "Say why" in refused.json()["action"]
    done = api.post(
        f"/api/review-items/{item.pk}/resolve/",
        {"action": "dismiss", "note": "duplicate test data"},
        format="json",
    )
    assert done.json() == {"outcome": "Dismissed."}
    item.refresh_from_db()
    assert (item.status, item.assignee, item.resolved_by) == ("dismissed", staff, staff)
    log = api.get(f"/api/review-items/{item.pk}/").json()["log"]
    assert [(e["action"], e["succeeded"]) for e in log] == [
        ("assign", True),
        ("dismiss", False),
        ("dismiss", True),
    ]


def test_the_openapi_schema_describes_the_queue(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/review-items/{id}/resolve/" in paths
    assert "/api/runs/{id}/replay/" in paths


def test_replaying_an_unfinished_run_is_refused_with_a_reason(api):
    from handoffs.models import HandoffRun

    run = HandoffRun.objects.create(
        handoff="deal_won_to_job",
        key="k",
        record_system="hubspot",
        record_type="deal",
        record_ref="1",
        state="needs_review",
    )
    response = api.post(f"/api/runs/{run.pk}/replay/")
    assert response.status_code == 400
    assert "retried from that item" in response.json()["state"]
    assert ReviewItem.objects.count() == 0
