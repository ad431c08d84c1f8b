"""Dismissed means closed: the handoffs waiting on a dismissed item end with it."""

import pytest
from django.urls import reverse

from handoffs.models import HandoffRun
from review_queue.models import ReviewItem
from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


def waiting_run(item: ReviewItem, key: str = "deal:5000") -> HandoffRun:
    return HandoffRun.objects.create(
        handoff="deal_won_to_job",
        key=key,
        record_system=item.system,
        record_type=item.record_type,
        record_ref=item.record_ref,
        state=HandoffRun.State.NEEDS_REVIEW,
        review_item=item,
        summary="The deal was won, but it has no company in HubSpot.",
    )


def dismiss(client, item: ReviewItem, why: str):
    url = reverse("review_queue:resolve", args=[item.pk])
    return client.post(url, {"action": "dismiss", "note": why}, follow=True)


def test_dismissing_an_item_ends_the_runs_waiting_on_it_saying_who_and_why(client, office_staff):
    item, other = ReviewItemFactory(), ReviewItemFactory()
    run, untouched = waiting_run(item), waiting_run(other, key="deal:other")
    client.force_login(office_staff)

    page = dismiss(client, item, "A test deal; nobody will do this work.").content.decode()

    assert "Dismissed. 1 handoff waiting on it ended." in page
    run.refresh_from_db()
    assert run.state == HandoffRun.State.DISMISSED
    assert run.summary == "Dismissed by ops: A test deal; nobody will do this work."
    assert run.finished_at is not None
    untouched.refresh_from_db()
    assert untouched.state == HandoffRun.State.NEEDS_REVIEW
    # A person who changes their mind can still run it again from its page.
    client.post(reverse("handoffs:run_replay", args=[run.pk]))
    run.refresh_from_db()
    assert run.state == HandoffRun.State.PENDING


def test_the_record_trail_shows_the_dismissal_and_the_runs_it_ended(client, office_staff):
    item = ReviewItemFactory()
    waiting_run(item)
    client.force_login(office_staff)
    dismiss(client, item, "Duplicate of another deal.")

    url = reverse("dashboard:trail", args=[item.system, item.record_type, item.record_ref])
    trail = client.get(url).content.decode()

    assert "Won deal to job: ended, its review item dismissed" in trail
    assert "Dismissed by ops: Duplicate of another deal." in trail
    assert "Note: Duplicate of another deal." in trail
