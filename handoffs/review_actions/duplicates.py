"""A possible duplicate customer: link to the existing one (and merge), or create."""

from connectors.base import CustomerDetails
from connectors.operations.client import JobRegister
from handoffs.models import HandoffRun
from handoffs.runs import handoff_runs_retry
from ownership.models import Record
from ownership.selectors import link_external_id
from ownership.services import link_add, record_for_link
from review_queue.actions import Action, ActionFailed, ActionField, action_register
from review_queue.models import ReviewItem


def _is_possible_duplicate(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.DUPLICATE and "candidates" in item.details


def _candidates(item: ReviewItem) -> list[tuple[str, str]]:
    return [(c["id"], f"{c['name']} ({c['why']})") for c in item.details["candidates"]]


def _chosen(item: ReviewItem, values: dict) -> dict:
    for candidate in item.details["candidates"]:
        if candidate["id"] == values.get("customer"):
            return candidate
    raise ActionFailed("Choose which existing customer this is.")


def _link(item: ReviewItem, values: dict, *, merge: bool) -> str:
    new, chosen = item.details["new"], _chosen(item, values)
    record = record_for_link(
        type=Record.Type.CUSTOMER,
        system=new["system"],
        external_id=new["external_id"],
        label=new["name"],
    )
    if link_external_id(record=record, system="operations") is None:
        link_add(record=record, system="operations", external_id=chosen["id"])
    if merge:
        JobRegister().customer_merge(customer_id=chosen["id"], details=CustomerDetails(**new))
    count = handoff_runs_retry(item=item)
    took = " and took HubSpot's details" if merge else ""
    return (
        f"Linked HubSpot's '{new['name']}' to '{chosen['name']}'{took}; {count} handoff(s) resumed."
    )


def _link_preview(item: ReviewItem, values: dict, *, merge: bool) -> str:
    new, chosen = item.details["new"], _chosen(item, values)
    lines = [f"HubSpot company '{new['name']}' becomes the register's '{chosen['name']}'."]
    if merge:
        lines += [f"  {k}: {new[k]}" for k in ("email", "phone", "address", "tax_number") if new[k]]
        lines.insert(1, "The register's customer takes these details from HubSpot:")
    lines.append("Then the waiting handoffs run again and create the job for that customer.")
    return "\n".join(lines)


def _create_new(item: ReviewItem, values: dict, by) -> str:
    for run in item.runs.filter(state=HandoffRun.State.NEEDS_REVIEW):
        HandoffRun.objects.filter(pk=run.pk).update(
            payload=run.payload | {"new_customer_confirmed": True}
        )
    count = handoff_runs_retry(item=item)
    return (
        f"Confirmed '{item.details['new']['name']}' is a new customer; {count} handoff(s) resumed."
    )


CUSTOMER_CHOICE = ActionField("customer", "Which existing customer is it?", choices=_candidates)
for name, label, merge, explanation in (
    (
        "link_existing",
        "Same customer: link",
        False,
        "Use the existing customer; keep the register's details.",
    ),
    (
        "merge_existing",
        "Same customer: link and take HubSpot's details",
        True,
        "Use the existing customer and update its email, phone, address and ABN from HubSpot.",
    ),
):
    action_register(
        Action(
            name=name,
            label=label,
            explanation=explanation,
            applies_to=_is_possible_duplicate,
            perform=lambda item, values, by, merge=merge: _link(item, values, merge=merge),
            preview=lambda item, values, merge=merge: _link_preview(item, values, merge=merge),
            fields=(CUSTOMER_CHOICE,),
        )
    )
action_register(
    Action(
        name="create_new",
        label="Different customer: create it",
        explanation="It is not any of these: create a new customer in the register.",
        applies_to=_is_possible_duplicate,
        perform=_create_new,
        preview=lambda item, values: f"Create a new customer '{item.details['new']['name']}' in "
        "the register, then create the job.",
    )
)
