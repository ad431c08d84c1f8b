"""A deal that promised another amount than its job's lines: invoice the lines, or fix the
deal (the item then settles when the corrected amount reaches the job)."""

from connectors.registry import system
from handoffs.flows.promised_amount import USE_LINES
from handoffs.runs import handoff_runs_retry
from integration_hub import labels
from review_queue.actions import Action, action_register
from review_queue.details import details_of
from review_queue.models import ReviewItem
from review_queue.services import review_item_assign


def _differs(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.PROMISE_DIFFERS and bool(item.details)


def _use_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    return (
        f"The draft invoice for job {d.job} is made from its lines: {d.lines} {d.gst}, not the "
        f"deal's {d.promised}. The deal keeps its amount; this choice holds while both "
        "figures stay as they are."
    )


def _use_lines(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    count = handoff_runs_retry(item=item)
    return (
        f"Job {d.job} is invoiced from its lines ({d.lines} {d.gst}); "
        f"{labels.count_of(count, 'handoff', 'handoffs')} sent on."
    )


def _fix_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    return (
        f"In {system(d.deal_system).label}, open deal {d.deal} and set its amount to {d.lines} "
        f"({d.gst}, like the lines); it says {d.promised} now. Once the new amount reaches job "
        f"{d.job}, this item closes by itself and the invoice is drafted. The item is assigned "
        "to you meanwhile."
    )


def _fix_deal(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    review_item_assign(item=item, by=by, assignee=by)
    return f"Waiting for deal {d.deal}'s amount to become {d.lines}; the invoice waits with it."


action_register(
    Action(
        name=USE_LINES,
        label=labels.REVIEW_ACTIONS[USE_LINES],
        explanation="Draft the invoice from the job's lines as they are, whatever the deal "
        "promised.",
        applies_to=_differs,
        perform=_use_lines,
        preview=_use_preview,
    )
)
action_register(
    Action(
        name="fix_deal",
        label=labels.REVIEW_ACTIONS["fix_deal"],
        explanation="Correct the deal's amount in the CRM; the invoice is drafted once the "
        "corrected amount reaches the job.",
        applies_to=_differs,
        perform=_fix_deal,
        preview=_fix_preview,
        closes_item=False,
    )
)
