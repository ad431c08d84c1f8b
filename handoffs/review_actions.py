"""The review-queue actions that handoffs offer."""

from decimal import Decimal

from connectors.errors import ConnectorError
from connectors.hubspot.client import HubSpotClient
from handoffs.models import HandoffRun
from handoffs.registry import handoff_get
from handoffs.runs import handoff_runs_close, handoff_runs_retry
from operations.models import Job
from operations.services import job_promise_update, job_transition
from operations.transitions import TransitionRefused, transition_check
from review_queue.actions import Action, ActionFailed, action_register
from review_queue.models import ReviewItem


def _has_waiting_runs(item: ReviewItem) -> bool:
    # A disagreement is settled by choosing a value, not by running the comparison again.
    if item.kind in (ReviewItem.Kind.DISAGREEMENT, ReviewItem.Kind.QUOTE_CHANGED):
        return False
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
        label="Retry",
        explanation="Run the waiting handoffs again. Fix the cause first; you will see what "
        "each would do before anything is written.",
        applies_to=_has_waiting_runs,
        perform=_retry,
        preview=_preview,
    )
)


def _is_disagreement(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.DISAGREEMENT and "owner_value" in item.details


def _keep_owner_preview(item: ReviewItem, values: dict) -> str:
    d = item.details
    return (
        f"Set {d['other_field']} on HubSpot deal {d['deal']} to {d['owner_value']!r} "
        f"(it has {d['other_value']!r}). {d['owner'].title()} keeps {d['owner_value']!r}."
    )


def _keep_owner(item: ReviewItem, values: dict, by) -> str:
    d = item.details
    try:
        HubSpotClient().deal_update(d["deal"], {d["other_field"]: d["owner_value"]})
    except ConnectorError as error:
        raise ActionFailed(
            f"HubSpot did not take the value: {error.message} {error.fix}"
        ) from error
    outcome = f"HubSpot deal {d['deal']} has {d['owner_value']!r} again, as {d['owner']} says."
    handoff_runs_close(item=item, summary=f"Resolved from the review queue: {outcome}")
    return outcome


def _take_other_check(item: ReviewItem, by) -> Job:
    d = item.details
    if d["field"] != "status":
        raise ActionFailed(
            f"The hub cannot change the {d['label']} in {d['owner']} for you; "
            "change it there, or keep the owner's value."
        )
    if d["editable_by"] == "nobody" or (
        d["editable_by"] == "admin" and not getattr(by, "is_staff", False)
    ):
        raise ActionFailed(
            f"The ownership rule lets {d['editable_by']} change this field in the hub."
        )
    return Job.objects.get(number=d["job"])


def _take_other_preview(item: ReviewItem, values: dict) -> str:
    d = item.details
    job = Job.objects.get(number=d["job"])
    try:
        transition_check(job=job, to=d["other_value"])
    except TransitionRefused as refused:
        raise ActionFailed(f"This cannot be done: {refused}") from refused
    return (
        f"Job {job.number} moves from {job.status!r} to {d['other_value']!r} in operations "
        "(the owner); HubSpot already shows that, so nothing more is written there."
    )


def _take_other(item: ReviewItem, values: dict, by) -> str:
    job = _take_other_check(item, by)
    try:
        job_transition(job=job, to=item.details["other_value"], by=by)
    except TransitionRefused as refused:
        raise ActionFailed(str(refused)) from refused
    outcome = f"Job {job.number} is now {item.details['other_value']!r} in operations."
    handoff_runs_close(item=item, summary=f"Resolved from the review queue: {outcome}")
    return outcome


action_register(
    Action(
        name="keep_owner",
        label="Keep the owner's value",
        explanation="The owning system is right: write its value back where it was changed.",
        applies_to=_is_disagreement,
        perform=_keep_owner,
        preview=_keep_owner_preview,
    )
)
action_register(
    Action(
        name="take_other",
        label="Use the other system's value",
        explanation="The other system is right: change the value in the owner (only where the "
        "rule allows it).",
        applies_to=_is_disagreement,
        perform=_take_other,
        preview=_take_other_preview,
    )
)


def _is_quote_change(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.QUOTE_CHANGED and "after" in item.details


def _apply_preview(item: ReviewItem, values: dict) -> str:
    d = item.details
    removed = [f"  - {line}" for line in d["before"]["lines"] if line not in d["after"]["lines"]]
    added = [f"  + {line}" for line in d["after"]["lines"] if line not in d["before"]["lines"]]
    return "\n".join(
        [
            f"Job {d['job']}: amount {d['before']['amount']} → {d['after']['amount']}",
            *removed,
            *added,
        ]
    )


def _apply_to_job(item: ReviewItem, values: dict, by) -> str:
    d = item.details
    job = Job.objects.get(number=d["job"])
    lines = [
        {
            "description": line["description"],
            "quantity": Decimal(line["quantity"]),
            "unit_price": Decimal(line["unit_price"]),
            "item_code": line["item_code"],
        }
        for line in d["lines"]
    ]
    job_promise_update(job=job, amount=Decimal(d["after"]["amount"]), lines=lines, by=by)
    outcome = f"Job {job.number} now carries the deal's amount {d['after']['amount']} and lines."
    handoff_runs_close(item=item, summary=f"Resolved from the review queue: {outcome}")
    return outcome


action_register(
    Action(
        name="apply_to_job",
        label="Apply to the job",
        explanation="Replace the job's promised amount and lines with the deal's.",
        applies_to=_is_quote_change,
        perform=_apply_to_job,
        preview=_apply_preview,
    )
)
