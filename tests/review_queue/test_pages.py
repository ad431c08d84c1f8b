"""The review queue pages: login required, items shown in plain words, resolution by form."""

import pytest
from django.urls import reverse

from review_queue.models import ReviewItem
from review_queue.services import review_item_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def item() -> ReviewItem:
    return review_item_open(
        root_key="deal_won_to_job:deal:42:deal_without_company",
        kind=ReviewItem.Kind.MISSING_DATA,
        system="hubspot",
        title="Won deal to job: Walk-in quote",
        reason="The deal 'Walk-in quote' was won, but it has no company in HubSpot.",
        action="Open the deal in HubSpot, associate the customer's company, then press Retry.",
        record_type="deal",
        record_ref="42",
        record_label="Walk-in quote",
        vendor_error="raw detail <b>escaped</b>",
    )


@pytest.fixture
def staff(client, office_staff):
    client.force_login(office_staff)
    return office_staff


@pytest.mark.parametrize("name", ["review_queue:list", "operations:job_list", "handoffs:activity"])
def test_anonymous_visitors_get_the_login_page(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_staff_see_open_items_with_the_reason(client, staff, item):
    page = client.get(reverse("review_queue:list")).content.decode()
    assert item.title in page
    assert "has no company in HubSpot" in page


def test_the_item_page_says_what_to_do_and_keeps_the_raw_error_behind_a_toggle(client, staff, item):
    page = client.get(reverse("review_queue:detail", args=[item.pk])).content.decode()
    assert "associate the customer&#x27;s company" in page
    assert "<details><summary>Technical detail" in page
    assert "raw detail &lt;b&gt;escaped&lt;/b&gt;" in page


def test_staff_dismiss_an_item_with_a_reason(client, staff, item):
    response = client.post(
        reverse("review_queue:resolve", args=[item.pk]),
        {"action": "dismiss", "note": "Customer cancelled."},
        follow=True,
    )
    assert "Dismissed." in response.content.decode()
    item.refresh_from_db()
    assert (item.status, item.resolved_by, item.resolution_note) == (
        "dismissed",
        staff,
        "Customer cancelled.",
    )


def test_a_refused_action_is_explained_and_changes_nothing(client, staff, item):
    response = client.post(
        reverse("review_queue:resolve", args=[item.pk]), {"action": "dismiss"}, follow=True
    )
    assert "Say why you are dismissing" in response.content.decode()
    item.refresh_from_db()
    assert item.is_open


def test_resolving_needs_a_csrf_token(staff, item):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    response = strict.post(
        reverse("review_queue:resolve", args=[item.pk]), {"action": "dismiss", "note": "x"}
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.is_open
