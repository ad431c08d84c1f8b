"""Disagreements: keep the owner's value, or take the other system's."""

from connectors.errors import ConnectorError
from connectors.hubspot.client import HubSpotClient
from connectors.xero.accounting import XeroAccounting
from handoffs.runs import handoff_runs_close
from integration_hub.permissions import is_admin
from operations.models import Job
from operations.services import job_transition
from operations.transitions import TransitionRefused, transition_check
from review_queue.actions import Action, ActionFailed, action_register
from review_queue.models import ReviewItem


def _is_disagreement(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.DISAGREEMENT and "owner_value" in item.details


def _hubspot_object(d: dict) -> tuple[str, str]:
    """The HubSpot record that holds the other value: a deal (job fields) or a company."""
    if d.get("other_object") == "companies":
        return "company", d["other_id"]
    return "deal", d["deal"]


def _keep_owner_preview(item: ReviewItem, values: dict) -> str:
    d = item.details
    kind, object_id = _hubspot_object(d)
    return (
        f"Set {d['other_field']} on HubSpot {kind} {object_id} to {d['owner_value']!r} "
        f"(it has {d['other_value']!r}). {d['owner'].title()} keeps {d['owner_value']!r}."
    )


def _keep_owner(item: ReviewItem, values: dict, by) -> str:
    d = item.details
    kind, object_id = _hubspot_object(d)
    write = HubSpotClient().company_update if kind == "company" else HubSpotClient().deal_update
    try:
        write(object_id, {d["other_field"]: d["owner_value"]})
    except ConnectorError as error:
        raise ActionFailed(
            f"HubSpot did not take the value: {error.message} {error.fix}"
        ) from error
    outcome = (
        f"HubSpot {kind} {object_id} has {d['owner_value']!r} again, as "
        f"{d.get('owner_name', d['owner'])} says."
    )
    handoff_runs_close(item=item, summary=f"Resolved from the review queue: {outcome}")
    return outcome


def _editable_check(d: dict, by) -> None:
    if d["editable_by"] == "nobody" or (d["editable_by"] == "admin" and not is_admin(by)):
        raise ActionFailed(
            f"The ownership rule lets {d['editable_by']} change this field in the hub."
        )


def _take_other_check(item: ReviewItem, by) -> Job:
    d = item.details
    if d["field"] != "status":
        raise ActionFailed(
            f"The hub cannot change the {d['label']} in {d['owner']} for you; "
            "change it there, or keep the owner's value."
        )
    _editable_check(d, by)
    return Job.objects.get(number=d["job"])


def _take_other_preview(item: ReviewItem, values: dict) -> str:
    d = item.details
    if d.get("record_type") == "customer":
        return (
            f"Change the {d['label']} of the Xero contact (the owner) from "
            f"{d['owner_value']!r} to {d['other_value']!r}; HubSpot already shows it. "
            f"The rule lets {d['editable_by']} do this."
        )
    job = Job.objects.get(number=d["job"])
    try:
        transition_check(job=job, to=d["other_value"])
    except TransitionRefused as refused:
        raise ActionFailed(f"This cannot be done: {refused}") from refused
    return (
        f"Job {job.number} moves from {job.status!r} to {d['other_value']!r} in operations "
        "(the owner); HubSpot already shows that, so nothing more is written there."
    )


def _take_other_in_xero(item: ReviewItem, by) -> str:
    d = item.details
    _editable_check(d, by)
    try:
        XeroAccounting.connected().contact_field_set(
            d["xero_contact"], d["field"], d["other_value"]
        )
    except ConnectorError as error:
        raise ActionFailed(f"Xero did not take the value: {error.message} {error.fix}") from error
    outcome = f"The Xero contact's {d['label']} is now {d['other_value']!r}, as HubSpot had it."
    handoff_runs_close(item=item, summary=f"Resolved from the review queue: {outcome}")
    return outcome


def _take_other(item: ReviewItem, values: dict, by) -> str:
    if item.details.get("record_type") == "customer":
        return _take_other_in_xero(item, by)
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
