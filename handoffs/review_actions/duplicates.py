"""A possible duplicate customer: link to the existing one (and merge), or say it is different."""

from django.db import transaction
from django.utils.translation import ngettext

from connectors.base import Address, CustomerDetails
from connectors.registry import operations, systems
from handoffs.review_actions.values import choice_apply
from handoffs.runs import handoff_runs_retry
from integration_hub import labels
from ownership.models import Distinct, Link, Record
from ownership.services import link_add
from review_queue.actions import Action, ActionFailed, ActionField, action_register
from review_queue.details import details_of
from review_queue.models import ReviewItem


def _is_possible_duplicate(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.DUPLICATE and "candidates" in item.details


def _mergeable(item: ReviewItem) -> bool:
    # Only the register takes another system's details into an existing customer.
    return _is_possible_duplicate(item) and item.details["target"] == operations().system


def _candidates(item: ReviewItem) -> list[tuple[str, str]]:
    return [(c.id, f"{c.name} ({c.why})") for c in details_of(item).candidates]


def _chosen(item: ReviewItem, values: dict):
    for candidate in details_of(item).candidates:
        if candidate.id == values.get("customer"):
            return candidate
    raise ActionFailed("Choose which existing customer this is.")


def _new(item: ReviewItem) -> CustomerDetails:
    new = dict(details_of(item).new)
    return CustomerDetails(**new | {"address": Address(**new.get("address") or {})})


def _waiting(count: int) -> str:
    return ngettext("%(n)d waiting handoff goes on", "%(n)d waiting handoffs go on", count) % {
        "n": count
    }


def _label(system: str) -> str:
    return systems()[system].label if system in systems() else system


@transaction.atomic
def customers_join(
    new: CustomerDetails, target: str, chosen_id: str, by, organisation: str = ""
) -> Record:
    """One record for the new customer and the chosen one: link, or move links across
    (`organisation`: the target's organisation the chosen one is in, when it has several)."""
    mine = Record.objects.filter(
        links__system=new.system, links__external_id=new.external_id, type="customer"
    ).first()
    theirs = Record.objects.filter(
        links__system=target, links__external_id=chosen_id, type="customer"
    ).first()
    why = "a person said they are the same customer"
    if mine is None and theirs is None:
        mine = Record.objects.create(type="customer", label=new.name)
    if theirs is None:
        link_add(
            record=mine,
            system=target,
            external_id=chosen_id,
            reason=why,
            by=by,
            organisation=organisation,
        )
        return mine
    if mine is None or mine == theirs:
        if mine is None:
            link_add(
                record=theirs, system=new.system, external_id=new.external_id, reason=why, by=by
            )
        return theirs
    clash = set(mine.links.values_list("system", flat=True)) & set(
        theirs.links.values_list("system", flat=True)
    )
    if clash:
        names = ", ".join(_label(s) for s in sorted(clash))
        raise ActionFailed(
            f"Both are already linked in {names} to different customers: merge them there "
            "first, then choose again."
        )
    Link.objects.filter(record=mine).update(record=theirs)
    mine.delete()
    return theirs


def _link(item: ReviewItem, values: dict, by, *, merge: bool) -> str:
    d, chosen, new = details_of(item), _chosen(item, values), _new(item)
    record = customers_join(new, d.target, chosen.id, by, d.organisation)
    if merge:
        operations().customer_merge(customer_id=chosen.id, details=new)
    count = handoff_runs_retry(item=item)
    choice_apply(record_id=record.pk, change=f"linked:{item.pk}")
    took = f" and took {_label(new.system)}'s details" if merge else ""
    resumed = f"; {_waiting(count)}" if count else ""
    return (
        f"Linked {_label(new.system)}'s '{new.name}' to {_label(d.target)}'s "
        f"'{chosen.name}'{took}{resumed}."
    )


def _link_preview(item: ReviewItem, values: dict, *, merge: bool) -> str:
    d, chosen, new = details_of(item), _chosen(item, values), _new(item)
    lines = [
        f"{_label(new.system)}'s '{new.name}' and {_label(d.target)}'s '{chosen.name}' "
        "become one customer; the ownership rules then settle their details."
    ]
    if merge:
        lines.append(f"{_label(d.target)} fills its empty details from {_label(new.system)}:")
        offered = {
            "email": new.email,
            "phone": new.phone,
            "address": new.address.line(),
            "ABN": new.tax_number,
            "contact": new.contact_name,
        }
        lines += [f"  {k}: {v}" for k, v in offered.items() if v]
    lines.append("Then any waiting handoffs run again (the job, or the invoice, follows).")
    return "\n".join(lines)


def _different(item: ReviewItem, values: dict, by) -> str:
    d, new = details_of(item), _new(item)
    record = Record.objects.filter(pk=d.record).first()
    if record is not None:
        for candidate in d.candidates:
            Distinct.objects.get_or_create(
                record=record, system=d.target, external_id=candidate.id, defaults={"by": by}
            )
    count = handoff_runs_retry(item=item)
    resumed = f"; {_waiting(count)}" if count else ""
    return (
        f"'{new.name}' is a different customer from those in {_label(d.target)}: the hub "
        f"will not propose them again{resumed}."
    )


CUSTOMER_CHOICE = ActionField("customer", "Which existing customer is it?", choices=_candidates)
for name, merge, explanation in (
    (
        "link_existing",
        False,
        "Use the existing customer; the ownership rules settle each detail.",
    ),
    (
        "merge_existing",
        True,
        "Use the existing customer and fill its empty email, phone, address and ABN from the "
        "new one.",
    ),
):
    action_register(
        Action(
            name=name,
            label=labels.REVIEW_ACTIONS[name],
            explanation=explanation,
            applies_to=_mergeable if merge else _is_possible_duplicate,
            perform=lambda item, values, by, merge=merge: _link(item, values, by, merge=merge),
            preview=lambda item, values, merge=merge: _link_preview(item, values, merge=merge),
            fields=(CUSTOMER_CHOICE,),
        )
    )
action_register(
    Action(
        name="create_new",
        label=labels.REVIEW_ACTIONS["create_new"],
        explanation="It is none of these: keep them apart (a new customer is made where one "
        "is needed).",
        applies_to=_is_possible_duplicate,
        perform=_different,
        preview=lambda item, values: (
            f"Keep '{item.details['new']['name']}' apart from "
            f"{', '.join(c['name'] for c in item.details['candidates'])}; waiting handoffs "
            "then make a new customer where they need one."
        ),
    )
)
