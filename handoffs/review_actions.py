"""The review-queue actions that handoffs offer."""

from handoffs.models import HandoffRun
from handoffs.runs import handoff_runs_retry
from review_queue.actions import Action, action_register
from review_queue.models import ReviewItem


def _has_waiting_runs(item: ReviewItem) -> bool:
    return item.runs.filter(state=HandoffRun.State.NEEDS_REVIEW).exists()


def _retry(item: ReviewItem, values: dict) -> str:
    count = handoff_runs_retry(item=item)
    return f"Sent {count} handoff{'s' if count != 1 else ''} back to the workers."


action_register(
    Action(
        name="retry",
        label="Retry",
        explanation="Run the waiting handoffs again, now. Fix the cause first.",
        applies_to=_has_waiting_runs,
        perform=_retry,
    )
)
