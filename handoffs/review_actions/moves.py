"""A customer merged away or archived in its system (ownership/moves.py): what staff decide."""

from django.utils import timezone

from connectors.registry import systems
from handoffs.flows.shared_fields import records_look_again
from handoffs.runs import handoff_runs_retry
from integration_hub import labels
from ownership.models import Link, Record
from ownership.moves import customers_merge, link_move, link_remove
from review_queue.actions import Action, ActionFailed, action_register
from review_queue.details import details_of
from review_queue.models import ReviewItem


def _merged(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.CUSTOMER_MERGED and bool(item.details)


def _archived(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.CUSTOMER_ARCHIVED and bool(item.details)


def _label(system: str) -> str:
    return systems()[system].label if system in systems() else system


def _name(record_id: int) -> str:
    record = Record.objects.filter(pk=record_id).first()
    if record is None:
        raise ActionFailed("This customer is no longer in the hub: dismiss this item.")
    return record.label or str(record)


def _link(system: str, external_id: str) -> Link:
    link = Link.objects.filter(record_type="customer", system=system, external_id=external_id)
    found = link.select_related("record").first()
    if found is None:
        raise ActionFailed(
            f"The hub no longer links anything to {_label(system)}'s {external_id}: it was "
            "settled meanwhile. Dismiss this item."
        )
    return found


def _names(item: ReviewItem) -> tuple[str, str, str]:
    """The merged item's customer, the survivor's customer and the system, as staff say them."""
    d = details_of(item)
    return _name(d.record), _name(d.other), _label(d.system)


def _found_again(name: str, label: str) -> str:
    """What the hub does the next time the customer, linked to nothing there, is needed."""
    return (
        f"the next time {name} is needed in {label} (an invoice, the nightly check) the hub "
        f"looks among {label}'s active records for one with {name}'s ABN, email or name. One "
        "sure match: the hub links it. Several, or unsure: an item shows them and you choose. "
        f"None: the hub makes a new one, '{name}', in {label}."
    )


def _after(item: ReviewItem, records: list[Record], said: str) -> str:
    """Run the engine on the records, send waiting handoffs back, and say so."""
    records_look_again(records=records, change=f"item:{item.pk}:{timezone.now().isoformat()}")
    count = handoff_runs_retry(item=item)
    return said + (f" {count} waiting handoff(s) go on." if count else "")


# Merged into a record another customer has -----------------------------------------------


def _merge(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    stale, theirs = _link(d.system, d.merged_id), _link(d.system, d.survivor)
    try:
        into = customers_merge(record=stale.record, into=theirs.record, stale=stale, by=by)
    except ValueError as error:
        raise ActionFailed(str(error)) from error
    return _after(item, [into], f"{stale.record.label} is now part of {into.label}.")


def _merge_preview(item: ReviewItem, values: dict) -> str:
    d, (name, theirs, label) = details_of(item), _names(item)
    moving = [
        _label(s)
        for s in Link.objects.filter(record_id=d.record)
        .exclude(system=d.system)
        .values_list("system", flat=True)
    ]
    return (
        f"{name} and {theirs} become one customer, {theirs}.\n"
        f"{name}'s link to {label}'s {d.merged_id} ends ({label} merged it into "
        f"{d.survivor}, which is {theirs}'s).\n"
        + (f"{name}'s links in {', '.join(moving)} move to {theirs}.\n" if moving else "")
        + "The ownership rules then settle the details; waiting handoffs go on."
    )


def _mine(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    stale, theirs = _link(d.system, d.merged_id), _link(d.system, d.survivor)
    label = _label(d.system)
    link_remove(link=theirs, reason=f"{label}'s {d.survivor} given to {stale.record.label}", by=by)
    link_move(
        link=stale,
        external_id=d.survivor,
        reason=f"{label} merged {d.merged_id} into {d.survivor}; a person said it is "
        f"{stale.record.label}'s",
        by=by,
    )
    said = f"{label}'s {d.survivor} is now {stale.record.label}'s; {theirs.record.label} has none."
    return _after(item, [stale.record, theirs.record], said)


def _mine_preview(item: ReviewItem, values: dict) -> str:
    d, (name, theirs, label) = details_of(item), _names(item)
    return (
        f"{label}'s {d.survivor} (the merged record) becomes {name}'s.\n"
        f"{theirs} keeps its other links but has no {label} record: {_found_again(theirs, label)}"
    )


def _theirs(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    stale, label = _link(d.system, d.merged_id), _label(d.system)
    reason = f"{label} merged it into {d.survivor}, which stays {_name(d.other)}'s"
    link_remove(link=stale, reason=reason, by=by)
    return _after(item, [stale.record], f"{stale.record.label} no longer has a {label} record.")


def _theirs_preview(item: ReviewItem, values: dict) -> str:
    d, (name, theirs, label) = details_of(item), _names(item)
    return (
        f"{label}'s {d.survivor} stays {theirs}'s.\n"
        f"{name}'s link to {d.merged_id} ends: {_found_again(name, label)}"
    )


# Archived, with no survivor ---------------------------------------------------------------


def _look_again(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    link = _link(d.system, d.external_id)
    said = f"The hub reads {_label(d.system)}'s contact again; if it is still archived, a new "
    return _after(item, [link.record], said + "item says so.")


def _another(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    link, label = _link(d.system, d.external_id), _label(d.system)
    link_remove(link=link, reason=f"archived in {label}; a person asked for another", by=by)
    said = f"{link.record.label} has no {label} contact until the hub finds or makes one."
    return _after(item, [link.record], said)


def _another_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    name, label = _name(d.record), _label(d.system)
    return (
        f"{name}'s link to archived contact {d.external_id} ends (the link's history keeps "
        "it); the archived contact stays as it is. The invoices waiting on this item go on "
        f"now: {_found_again(name, label)}"
    )


def _look_again_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    return (
        f"The hub reads {_label(d.system)}'s contact {d.external_id} again. Restored: "
        f"{_name(d.record)}'s details are kept in line there again and waiting invoices go "
        "on. Still archived: a new item says so."
    )


for name, applies, perform, preview, explanation in (
    ("merge_customers", _merged, _merge, _merge_preview, "They are one business."),
    ("merged_is_mine", _merged, _mine, _mine_preview, "Two businesses: it is this one's."),
    ("merged_is_theirs", _merged, _theirs, _theirs_preview, "Two businesses: it is the other's."),
    ("look_again", _archived, _look_again, _look_again_preview, "Restored it there: read again."),
    ("link_another", _archived, _another, _another_preview, "Use another contact, or a new one."),
):
    action_register(
        Action(
            name=name,
            label=labels.REVIEW_ACTIONS[name],
            explanation=explanation,
            applies_to=applies,
            perform=perform,
            preview=preview,
        )
    )
