"""Run the check again: the item saying the check that the systems agree did not finish."""

from django.db import transaction

from handoffs.models import ReconcileRun
from integration_hub import labels
from review_queue.actions import Action, ActionFailed, action_register
from review_queue.models import ReviewItem


def _unfinished(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.FOUND and item.details.get("check") == "unfinished"


def _again(item: ReviewItem, values: dict, by) -> str:
    from handoffs.tasks import reconcile

    if ReconcileRun.objects.filter(state=ReconcileRun.State.RUNNING).exists():
        raise ActionFailed("A check is running now; this item closes when one finishes.")
    asked_by = by.get_username() if by else "review item"
    transaction.on_commit(lambda: reconcile.delay(asked_by=asked_by), robust=True)
    return "The check runs again in the background; this item closes when it finishes."


action_register(
    Action(
        name="check_again",
        label=labels.REVIEW_ACTIONS["check_again"],
        explanation="Start the check that the systems agree now. Fix what stopped it first "
        "(the reason names it).",
        applies_to=_unfinished,
        perform=_again,
        closes_item=False,
    )
)
