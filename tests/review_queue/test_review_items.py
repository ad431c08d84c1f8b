"""Review items: one per root cause, closed by a registered action or a reasoned dismissal."""

import pytest

from review_queue.models import ReviewItem
from review_queue.services import ResolutionRefused, review_item_open, review_item_resolve

pytestmark = pytest.mark.django_db


def open_item(root_key: str = "connection:hubspot:auth", **overrides) -> ReviewItem:
    fields = {
        "root_key": root_key,
        "kind": ReviewItem.Kind.CONNECTION,
        "system": "hubspot",
        "title": "Reconnect HubSpot",
        "reason": "HubSpot refused the token.",
        "action": "Renew the token.",
    }
    return review_item_open(**(fields | overrides))


def test_it_opens_one_item_per_root_cause_and_counts_repeats():
    first = open_item(vendor_error="401 first")
    second = open_item(vendor_error="401 second")
    assert first.pk == second.pk
    assert second.occurrences == 2
    assert second.vendor_error == "401 second"
    assert ReviewItem.objects.count() == 1


def test_it_opens_separate_items_for_separate_causes():
    open_item("a")
    open_item("b")
    assert ReviewItem.objects.filter(status=ReviewItem.Status.OPEN).count() == 2


def test_it_opens_a_new_item_when_the_cause_returns_after_resolution(django_user_model):
    user = django_user_model.objects.create_user("staff")
    item = open_item()
    review_item_resolve(item=item, by=user, action="dismiss", note="Token renewed by hand.")
    again = open_item()
    assert again.pk != item.pk
    item.refresh_from_db()
    assert (item.status, item.resolved_by, item.resolution) == ("dismissed", user, "dismiss")


def test_it_refuses_a_dismissal_without_a_reason():
    item = open_item()
    with pytest.raises(ResolutionRefused, match="why"):
        review_item_resolve(item=item, by=None, action="dismiss", note=" ")
    item.refresh_from_db()
    assert item.is_open


def test_it_refuses_an_action_that_does_not_fit_the_item():
    item = open_item()
    with pytest.raises(ResolutionRefused, match="not something"):
        review_item_resolve(item=item, by=None, action="merge")


def test_it_refuses_to_resolve_an_item_twice():
    item = open_item()
    review_item_resolve(item=item, by=None, action="dismiss", note="not ours")
    with pytest.raises(ResolutionRefused, match="already dismissed"):
        review_item_resolve(item=item, by=None, action="dismiss", note="again")


def test_it_keeps_the_history_of_an_item():
    item = open_item()
    review_item_resolve(item=item, by=None, action="dismiss", note="not ours")
    assert [h.status for h in item.history.order_by("history_date")] == ["open", "dismissed"]
