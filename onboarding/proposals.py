"""Staff's decisions on the first match's proposals, many at once.

- link: the customer and the chosen candidate (the likeliest unless a person chose
  another) become one, as a possible-duplicate item's "link" does; the engine then brings
  their fields in line by the ownership rules;
- new: it is a different customer there: never proposed again (nor asked about by the
  nightly check), and made in the register at once when the register is the other system
  (the finance system gets it with its first invoice);
- skip: left unlinked for now.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connectors.base import Address, CustomerDetails
from connectors.registry import operations, systems
from handoffs.flows.shared_fields import records_look_again
from handoffs.review_actions.duplicates import customers_join
from ownership.models import Distinct, Proposal, Record
from ownership.services import link_add
from review_queue.actions import ActionFailed

DECISIONS = {
    "link": "Link to the chosen customer",
    "new": "A different customer",
    "skip": "Leave unlinked",
}


@dataclass
class Decided:
    """What a bulk decision did: how many, and why any could not be done."""

    done: int = 0
    refused: list[str] = field(default_factory=list)


def _details(proposal: Proposal) -> CustomerDetails:
    d = dict(proposal.details)
    return CustomerDetails(**d | {"address": Address(**(d.get("address") or {}))})


def proposals_decide(
    *, proposals: list[Proposal], decision: str, by, chosen: dict[int, str] | None = None
) -> Decided:
    """Apply one decision to each open proposal; `chosen`: proposal id → candidate id."""
    decided, linked = Decided(), []
    for proposal in proposals:
        if proposal.state != Proposal.State.OPEN:
            continue
        try:
            with transaction.atomic():
                record = _decide(proposal, decision, (chosen or {}).get(proposal.pk), by)
        except ActionFailed as refusal:
            decided.refused.append(f"{proposal.name}: {refusal}")
            continue
        decided.done += 1
        if decision == "link":
            linked.append(record)
    if linked:
        records_look_again(records=linked, change="the first match")
    return decided


def _decide(proposal: Proposal, decision: str, chosen_id: str | None, by) -> Record | None:
    details, target = _details(proposal), systems()[proposal.target]
    record = proposal.record
    if decision == "link":
        ids = [c["id"] for c in proposal.candidates]
        chosen_id = chosen_id if chosen_id in ids else ids[0]
        record = customers_join(details, proposal.target, chosen_id, by)
        name = next(c["name"] for c in proposal.candidates if c["id"] == chosen_id)
        state, outcome = Proposal.State.LINKED, f"linked to {target.label}'s '{name}'"
    elif decision == "new":
        for candidate in proposal.candidates if record else ():
            Distinct.objects.get_or_create(
                record=record,
                system=proposal.target,
                external_id=candidate["id"],
                defaults={"by": by},
            )
        state, outcome = Proposal.State.NEW, _made(details, record, proposal.target, by)
    elif decision == "skip":
        state, outcome = Proposal.State.SKIPPED, "left unlinked"
    else:
        raise ActionFailed(f"Unknown decision {decision!r}.")
    proposal.state, proposal.outcome, proposal.record = state, outcome[:255], record
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.save()
    return record


def _made(details: CustomerDetails, record: Record | None, target: str, by) -> str:
    """Make the customer in the register now, when the register is the other system."""
    register = operations()
    if record is not None and record.links.filter(system=target).exists():
        return f"a different customer; already linked in {register.label} meanwhile"
    if target != register.system or record is None:
        return f"a different customer; {systems()[target].label} gets it when the hub needs it"
    customer_id = register.customer_create(details=details)
    link_add(
        record=record,
        system=target,
        external_id=customer_id,
        reason="a person said it is a new customer",
        by=by,
    )
    return f"a different customer; made in {register.label}"
