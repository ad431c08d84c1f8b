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

# Where the existing record lives: the job register (a new CRM customer) or Xero (a contact).
TARGETS = {"operations": "the register's customer", "xero": "the Xero contact"}
SOURCES = {"hubspot": "HubSpot", "operations": "the register's", "xero": "Xero"}


def _is_possible_duplicate(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.DUPLICATE and "candidates" in item.details


def _mergeable(item: ReviewItem) -> bool:
    # The hub writes a customer's details into the register, never into a Xero contact.
    return _is_possible_duplicate(item) and item.details.get("target", "operations") == "operations"


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
    target = item.details.get("target", "operations")
    if link_external_id(record=record, system=target) is None:
        link_add(record=record, system=target, external_id=chosen["id"])
    if merge:
        JobRegister().customer_merge(customer_id=chosen["id"], details=CustomerDetails(**new))
    count = handoff_runs_retry(item=item)
    took = " and took HubSpot's details" if merge else ""
    source = SOURCES.get(new["system"], new["system"])
    return (
        f"Linked {source} '{new['name']}' to {TARGETS[target]} '{chosen['name']}'{took}; "
        f"{count} handoff(s) resumed."
    )


def _link_preview(item: ReviewItem, values: dict, *, merge: bool) -> str:
    new, chosen = item.details["new"], _chosen(item, values)
    target = TARGETS[item.details.get("target", "operations")]
    source = SOURCES.get(new["system"], new["system"])
    lines = [f"{source} customer '{new['name']}' becomes {target} '{chosen['name']}'."]
    if merge:
        lines += [f"  {k}: {new[k]}" for k in ("email", "phone", "address", "tax_number") if new[k]]
        lines.insert(1, "The register's customer takes these details from HubSpot:")
    lines.append("Then the waiting handoffs run again (the job, or the invoice, follows).")
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
            applies_to=_mergeable if merge else _is_possible_duplicate,
            perform=lambda item, values, by, merge=merge: _link(item, values, merge=merge),
            preview=lambda item, values, merge=merge: _link_preview(item, values, merge=merge),
            fields=(CUSTOMER_CHOICE,),
        )
    )
action_register(
    Action(
        name="create_new",
        label="Different customer: create it",
        explanation="It is not any of these: create it anew.",
        applies_to=_is_possible_duplicate,
        perform=_create_new,
        preview=lambda item, values: (
            f"Create '{item.details['new']['name']}' as a new Xero contact, then the invoice."
            if item.details.get("target") == "xero"
            else f"Create a new customer '{item.details['new']['name']}' in the register, "
            "then create the job."
        ),
    )
)
