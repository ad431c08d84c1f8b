"""Customers that changed under the hub: merged into another, or archived, in their system.

A system that merged a linked customer into another (Xero's MergedToContactID, HubSpot's
hs_merged_object_ids) keeps it under the survivor's id: the hub's link follows it there,
and the link's history says when and why (the customer's trail shows it). When the
survivor is already another customer's in the hub, or the customer was archived with no
survivor (Xero refuses invoices to it), nothing moves: one review item asks a person.
Following is idempotent: a link already moved is not moved again (a run that raced the one
that moved it is told the survivor all the same), and each item is keyed by the stale id
(a dismissed one stays dismissed).
"""

from dataclasses import asdict

from django.db import IntegrityError, transaction

from connectors.base import CustomerMoved
from connectors.errors import Disagreement
from connectors.registry import in_organisation, systems
from ownership.models import Link, Record
from review_queue.details import CustomerArchived, CustomerMerged
from review_queue.models import ReviewItem
from review_queue.services import review_item_open


def _label(system: str) -> str:
    known = systems()
    return known[system].label if system in known else system


def moved_root(system: str, external_id: str) -> str:
    """The root key of the one item about a customer moved away from this id."""
    return f"customer-moved:{system}:{external_id}"


def customers_follow(*, system: str, moved: dict[str, CustomerMoved]) -> dict[str, str]:
    """Follow each moved customer to its survivor, or open the one item a person decides on.

    Return the links moved (old id → survivor's id).
    """
    followed = {}
    for each in moved.values():
        root = moved_root(system, each.external_id)
        if ReviewItem.objects.filter(root_key=root, status=ReviewItem.Status.DISMISSED).exists():
            continue  # a person said to leave it as it is
        try:
            survivor = _follow(system, each)
        except IntegrityError:  # another run linked the survivor meanwhile: decide again
            survivor = _follow(system, each)
        if survivor:
            followed[each.external_id] = survivor
    return followed


def customers_check(
    *, system: str, ids: list[str], organisation: str = "", unless_read_lately: bool = False
) -> dict[str, Disagreement | str]:
    """Ask the system which of these linked customers moved, and follow them (before the
    hub uses the ids, as for an invoice). Return, for each one that moved, its survivor's
    id (the link moved), or the error naming the item a person must settle first.
    `organisation`: the one of the system's organisations they are in (Xero tenants).
    `unless_read_lately`: as the system's customers_moved."""
    directory = in_organisation(systems()[system], organisation)
    moved = directory.customers_moved(ids, unless_read_lately=unless_read_lately) if ids else {}
    moves = customers_follow(system=system, moved=moved)
    said: dict[str, Disagreement | str] = {}
    for old in moved:
        item = ReviewItem.objects.filter(
            root_key=moved_root(system, old), status=ReviewItem.Status.OPEN
        ).first()
        if old in moves:
            said[old] = moves[old]
        elif item is not None:
            said[old] = Disagreement(
                item.reason,
                title=item.title,
                details=item.details,
                kind=item.kind,
                root=item.root_key,
                system=system,
                fix=item.action,
            )
    return said


@transaction.atomic
def _follow(system: str, moved: CustomerMoved) -> str:
    link = (
        Link.objects.select_for_update()
        .select_related("record")
        .filter(record_type=Record.Type.CUSTOMER, system=system, external_id=moved.external_id)
        .first()
    )
    if link is None:  # followed already (another run, or a person's choice)
        return _moved_to(system, moved)
    if not moved.survivor:
        _archived_open(link)
        return ""
    other = (
        Link.objects.select_related("record")
        .filter(record_type=Record.Type.CUSTOMER, system=system, external_id=moved.survivor)
        .first()
    )
    if other is not None and other.record.links.count() > 1:
        _merged_open(link, other)
        return ""
    if other is not None:  # the survivor, first seen alone (its own event came first)
        link_remove(link=other, reason=f"taken by {link.record.label}, merged into it", by=None)
        other.record.delete()
    link_move(
        link=link,
        external_id=moved.survivor,
        reason=f"{_label(system)} merged {moved.external_id} into {moved.survivor}",
    )
    return moved.survivor


def _moved_to(system: str, moved: CustomerMoved) -> str:
    """The survivor, when another run already moved the link there (else "")."""
    was = Link.history.filter(
        record_type=Record.Type.CUSTOMER, system=system, external_id=moved.external_id
    ).values("id")
    there = Link.objects.filter(pk__in=was, system=system, external_id=moved.survivor)
    return moved.survivor if moved.survivor and there.exists() else ""


def link_move(*, link: Link, external_id: str, reason: str, by=None) -> Link:
    """Point a link at another id in its system; its history keeps the old one and why."""
    link.external_id, link.reason = external_id, reason[:255]
    link._history_user = by
    link.save()
    return link


def _moved_open(link: Link, kind: str, details, *, title: str, reason: str, action: str):
    """Open the one item about the customer moved away from this link's id."""
    return review_item_open(
        root_key=moved_root(link.system, link.external_id),
        kind=kind,
        system=link.system,
        title=title,
        reason=reason,
        action=action,
        record_type=Record.Type.CUSTOMER,
        record_ref=link.external_id,
        record_label=link.record.label,
        details=asdict(details),
    )


def _archived_open(link: Link) -> ReviewItem:
    system, record = link.system, link.record
    label, name = _label(system), record.label or str(record)
    return _moved_open(
        link,
        ReviewItem.Kind.CUSTOMER_ARCHIVED,
        CustomerArchived(record=record.pk, system=system, external_id=link.external_id),
        title=f"{name}'s contact was archived in {label}",
        reason=f"{label} archived the contact the hub links to {name} ({link.external_id}) "
        f"without merging it into another. {label} refuses invoices to an archived contact, "
        f"so the hub invoices {name} nowhere until this is settled, and keeps none of its "
        f"details in line in {label}.",
        action=f"If it was archived by mistake, restore it in {label} (Contacts, Archived, "
        "Restore) and press 'Restored there: check again'. If the customer now has another "
        "contact there, or should have a new one, press 'Link another contact, or a new one'.",
    )


def _merged_open(link: Link, other: Link) -> ReviewItem:
    system, record, theirs = link.system, link.record, other.record
    label = _label(system)
    name, their_name = record.label or str(record), theirs.label or str(theirs)
    details = CustomerMerged(
        record=record.pk,
        other=theirs.pk,
        system=system,
        merged_id=link.external_id,
        survivor=other.external_id,
    )
    return _moved_open(
        link,
        ReviewItem.Kind.CUSTOMER_MERGED,
        details,
        title=f"{label} merged {name} into {their_name}",
        reason=f"In {label}, {name}'s record ({link.external_id}) was merged into "
        f"{other.external_id}, which the hub links to another customer, {their_name}. The "
        f"hub did not move {name}'s link: two customers cannot share one {label} record, "
        f"and {name}'s details are no longer kept in line in {label}.",
        action=f"If they are one business, merge them in the hub. If they are two, choose "
        f"which of them {label}'s merged record belongs to. Each choice shows what it does "
        "before you confirm.",
    )


def link_remove(*, link: Link, reason: str, by=None) -> None:
    """End a link; its history keeps it, with why and who."""
    link.reason = reason[:255]
    link._history_user = by
    link.delete()


@transaction.atomic
def customers_merge(*, record: Record, into: Record, stale: Link, by=None) -> Record:
    """Make two customers one: `record`'s links (but `stale`, which ends) move to `into`,
    each move in its link's history, and `record` goes."""
    where = ", ".join(sorted(_label(s) for s in _clash(record, into, stale)))
    if where:
        raise ValueError(
            f"{record.label} and {into.label} are both linked in {where}, each to a record of "
            f"its own. Merge those two in {where} first (the hub then follows), or keep the "
            "customers apart."
        )
    link_remove(link=stale, reason=f"merged into {into.label} in the hub", by=by)
    for link in Link.objects.filter(record=record):
        link.record = into
        link_move(
            link=link,
            external_id=link.external_id,
            reason=f"{record.label} merged into {into.label} in the hub",
            by=by,
        )
    record.delete()
    return into


def _clash(record: Record, into: Record, stale: Link) -> set[str]:
    """The systems where both customers have a link of their own (besides the stale one)."""
    mine = set(record.links.exclude(pk=stale.pk).values_list("system", flat=True))
    return mine & set(into.links.values_list("system", flat=True))
