"""Retry: run the handoffs waiting on an item again, after a preview."""

from connectors.errors import ConnectorError
from handoffs.models import HandoffRun
from handoffs.registry import handoff_get
from handoffs.runs import handoff_runs_retry
from integration_hub import labels
from review_queue.actions import Action, action_register
from review_queue.models import ReviewItem


def _has_waiting_runs(item: ReviewItem) -> bool:
    # A disagreement is settled by choosing a value, not by running the comparison again.
    if item.kind in (
        ReviewItem.Kind.DISAGREEMENT,
        ReviewItem.Kind.QUOTE_CHANGED,
        ReviewItem.Kind.DUPLICATE,
    ):
        return False
    if (waiting := getattr(item, "waiting_runs", None)) is not None:  # read with its page
        return waiting > 0
    return item.runs.filter(state=HandoffRun.State.NEEDS_REVIEW).exists()


def _retry(item: ReviewItem, values: dict, by) -> str:
    count = handoff_runs_retry(item=item)
    return f"Sent {count} handoff{'s' if count != 1 else ''} back to the workers."


def _preview(item: ReviewItem, values: dict) -> str:
    """Say what each waiting handoff would do now, reading only."""
    parts = []
    for run in item.runs.filter(state=HandoffRun.State.NEEDS_REVIEW):
        handoff = handoff_get(run.handoff)
        title = f"{handoff.label}: {run.record_label or run.record_ref}"
        if handoff.preview is None:
            parts.append(f"{title}\n  runs again (no preview for this handoff).")
            continue
        try:
            parts.append(f"{title}\n{handoff.preview(run)}")
        except ConnectorError as error:
            parts.append(f"{title}\n  would fail again: {error.message} {error.fix}")
    return "\n\n".join(parts)


action_register(
    Action(
        name="retry",
        label=labels.REVIEW_ACTIONS["retry"],
        explanation="Run the waiting handoffs again. Fix the cause first; you will see what "
        "each would do before anything is written.",
        applies_to=_has_waiting_runs,
        perform=_retry,
        preview=_preview,
    )
)
