"""Disagreement items: one per record and field, with every value and the choices allowed."""

from dataclasses import asdict

from django.db import transaction
from django.utils.text import capfirst

from connectors.base import Value
from connectors.registry import systems
from ownership.catalogue import EDITORS, field_of
from ownership.models import FieldChoice, FieldRule, Record
from ownership.values import shown_as, stored
from review_queue.details import Disagreement, OtherValue
from review_queue.models import ReviewItem
from review_queue.services import review_item_open


def _label(system: str) -> str:
    known = systems()
    return known[system].label if system in known else system


def disagreement_open(
    *, record: Record, rule: FieldRule, owner_value: Value, others: list[tuple[str, Value]]
) -> ReviewItem:
    """Open (or refresh) the item saying the copies differ from the owner's value."""
    label = field_of(record.type, rule.field).label
    owner = _label(rule.owner)
    details = Disagreement(
        record=record.pk,
        record_type=record.type,
        field=rule.field,
        label=label,
        owner=rule.owner,
        owner_label=owner,
        owner_value=stored(owner_value),
        owner_shown=shown_as(record.type, rule.field, owner_value),
        others=[
            OtherValue(
                system=system,
                label=_label(system),
                name=rule.carriers[system],
                value=stored(value),
                shown=shown_as(record.type, rule.field, value),
            )
            for system, value in others
        ],
        editable_by=rule.editable_by,
    )
    where = " and ".join(other.label for other in details.others)
    said = "; ".join(f"{other.label} has {other.shown!r}" for other in details.others)
    may = EDITORS[rule.editable_by].lower()
    taking = (
        f"taking another system's value changes it in {owner} too ({may} may do that)"
        if rule.editable_by != "nobody"
        else f"only {owner} can change it"
    )
    first = details.others[0]
    return review_item_open(
        root_key=f"disagreement:{record.pk}:{rule.field}",
        kind=ReviewItem.Kind.DISAGREEMENT,
        system=first.system,
        title=f"{capfirst(where)} {'disagree' if len(others) > 1 else 'disagrees'} "
        f"about the {label}",
        reason=f"{capfirst(owner)} owns the {label} of {record.label or record} and says "
        f"{details.owner_shown!r}, but {said}: someone changed it where it is not owned.",
        action=f"Choose which value is right. Keeping {owner}'s value writes it back to "
        f"{where}; {taking}.",
        record_type=record.type,
        record_ref=_external_id(record, first.system),
        record_label=record.label,
        details=asdict(details),
    )


def _external_id(record: Record, system: str) -> str:
    return record.links.filter(system=system).values_list("external_id", flat=True).first() or ""


def may_choose_other(details: Disagreement, user) -> str:
    """Return why this user may not take a non-owner's value here, or '' when they may."""
    if details.editable_by == "nobody":
        return f"Nobody may change the {details.label} in the hub: {details.owner_label} owns it."
    if details.editable_by == "admin" and not getattr(user, "is_staff", False):
        return f"Only admins may change the {details.label} ({details.owner_label} owns it)."
    return ""


@transaction.atomic
def field_choice_make(*, details: Disagreement, system: str, by) -> FieldChoice:
    """Record that `system`'s value is the right one; the engine applies it on its next run."""
    values = {details.owner: details.owner_value} | {o.system: o.value for o in details.others}
    return FieldChoice.objects.create(
        record_id=details.record, field=details.field, system=system, value=values[system], by=by
    )
