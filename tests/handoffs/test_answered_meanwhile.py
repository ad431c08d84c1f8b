"""A person answers a run's question while the run is still asking: the run goes on with
the answer instead of opening the same question again."""

import pytest
from django.utils import timezone

from connectors.errors import Disagreement
from handoffs.models import HandoffAttempt, HandoffRun
from handoffs.runs import _failed
from review_queue.models import ReviewItem
from review_queue.services import review_item_open, review_item_resolve

pytestmark = pytest.mark.django_db


def asked(root: str) -> Disagreement:
    return Disagreement(
        "Is it the same customer?", title="Possible duplicate", details={}, root=root, system="x"
    )


@pytest.fixture
def attempt() -> HandoffAttempt:
    run = HandoffRun.objects.create(
        handoff="deal_won_to_job", key="deal:7", record_type="deal", record_ref="7",
        state=HandoffRun.State.RUNNING,
    )  # fmt: skip
    return HandoffAttempt.objects.create(run=run, number=1)


def item(root: str) -> ReviewItem:
    return review_item_open(
        root_key=root, kind="handoff_failed", system="x", title="Same?", reason="r", action="a"
    )


def test_an_item_answered_while_the_attempt_ran_sends_the_run_on(attempt):
    review_item_resolve(item=item("dup:7"), by=None, action="dismiss", note="Different.")
    _failed(attempt.run, attempt, asked("dup:7"), [])
    run = HandoffRun.objects.get(pk=attempt.run.pk)
    assert (run.state, run.attempts, run.review_item) == ("retrying", 0, None)
    assert run.next_attempt_at <= timezone.now()
    assert not ReviewItem.objects.filter(status="open").exists()


def test_an_item_answered_before_the_attempt_began_is_asked_again(attempt):
    earlier = item("dup:7")
    review_item_resolve(item=earlier, by=None, action="dismiss", note="Different.")
    ReviewItem.objects.filter(pk=earlier.pk).update(
        resolved_at=attempt.started_at.replace(year=2000)
    )
    _failed(attempt.run, attempt, asked("dup:7"), [])
    run = HandoffRun.objects.get(pk=attempt.run.pk)
    assert run.state == "needs_review" and run.review_item.status == "open"
