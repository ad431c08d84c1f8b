"""Writes to canonical records and their links."""

from django.db import transaction

from connectors.base import Value
from connectors.errors import ConnectorError
from connectors.registry import connector, organisation_of, systems
from integration_hub import labels
from ownership.catalogue import DEFAULT_RULES, EDITORS, FIELDS, ON_DISAGREEMENT
from ownership.models import AgreedValue, FieldRule, Link, Record
from ownership.values import stored

RULE_KEYS = ("record_type", "field", "owner", "carriers", "editable_by", "on_disagreement", "note")


@transaction.atomic
def record_for_link(
    *,
    type: str,
    system: str,
    external_id: str,
    label: str = "",
    reason: str = "",
    organisation: str = "",
) -> Record:
    """Return the record linked to this system id, creating both if new."""
    link = (
        Link.objects.select_related("record")
        .filter(record_type=type, system=system, external_id=external_id)
        .first()
    )
    if link is not None:
        if label and link.record.label != label:
            Record.objects.filter(pk=link.record_id).update(label=label)
        return link.record
    record = Record.objects.create(type=type, label=label)
    link_add(
        record=record,
        system=system,
        external_id=external_id,
        reason=reason or "first seen",
        organisation=organisation,
    )
    return record


def link_add(
    *,
    record: Record,
    system: str,
    external_id: str,
    reason: str = "",
    by=None,
    organisation: str = "",
) -> Link:
    """Link a record to its id in another system (in one of its organisations, when it has
    several: the default one unless named), saying why (kept in the link's history)."""
    organisation = organisation or link_home(system)
    link = Link(
        record=record,
        record_type=record.type,
        system=system,
        external_id=external_id,
        organisation=organisation,
        reason=reason,
    )
    link._history_user = by
    link.save()
    return link


def link_home(system: str) -> str:
    """The organisation a new link to this system records when none is named: the default
    one of a system with several ("" for a system with one account, or while several are
    connected and none is chosen: such a link is read in the default later)."""
    try:
        return organisation_of(systems()[system]) if system in systems() else ""
    except ConnectorError:
        return ""


def link_ensure(
    *, record: Record, system: str, external_id: str, reason: str, organisation: str = ""
) -> None:
    """Link the record to this id unless it already has one in that system (organisation)."""
    if not Link.objects.filter(record=record, system=system, organisation=organisation).exists():
        link_add(
            record=record,
            system=system,
            external_id=external_id,
            reason=reason,
            organisation=organisation,
        )


def link_move(*, record: Record, system: str, external_id: str, reason: str) -> None:
    """Link the record to this id, taking the id from the record of its type that had it
    (a job invoiced anew: its new invoice takes the job's and the deal's links)."""
    if Link.objects.filter(record=record, system=system).exists():
        return
    link_release(record_type=record.type, system=system, external_id=external_id)
    link_add(record=record, system=system, external_id=external_id, reason=reason)


def link_release(*, record_type: str, system: str, external_id: str) -> None:
    """Unlink whichever record of this type has the id (its history keeps the link)."""
    for link in Link.objects.filter(
        record_type=record_type, system=system, external_id=external_id
    ):
        link.delete()


def record_unlink(*, record: Record, keep: str) -> None:
    """Unlink the record everywhere but in the system `keep` (its history keeps the links):
    an invoice replaced by a new one no longer speaks for the job and the deal."""
    for link in Link.objects.filter(record=record).exclude(system=keep):
        link.delete()


class RuleInvalid(ValueError):
    """A field rule breaks the ownership rules; the message says which and how."""


def _holds(where: str, system: str, record_type: str, field: str, *, write: bool) -> str:
    """Check the system's connector can read (and write) the field; return its name there."""
    known = systems()
    if system not in known:
        raise RuleInvalid(f"{where}: unknown system '{system}'. Known: {', '.join(known)}.")
    store = known[system]
    name = store.fields.get((record_type, field))
    if name is None:
        raise RuleInvalid(
            f"{where}: {store.label} holds no {labels.field_label(record_type, field)}, so it "
            "cannot own or carry it."
        )
    if write and (record_type, field) not in store.writable:
        raise RuleInvalid(
            f"{where}: the hub cannot write the {labels.field_label(record_type, field)} in "
            f"{store.label}."
        )
    return name


def field_rule_validate(
    *,
    record_type: str,
    field: str,
    owner: str,
    carriers: dict,
    editable_by: str,
    on_disagreement: str,
) -> None:
    """Raise RuleInvalid unless every system the rule names can do what the rule asks of it.

    Each carrier must be readable and writable through its connector (the hub compares
    and corrects it). The owner must be readable, and writable too when it has carriers
    and a person may choose another system's value (the only way a value enters it).
    """
    where = f"{record_type}.{field}"
    if field in FIELDS.get(record_type, {}):  # known: say it as staff do
        kind = labels.label("record_type", record_type)
        where = f"The {kind}'s {labels.field_label(record_type, field)}"
    if record_type not in FIELDS:
        raise RuleInvalid(
            f"{where}: unknown record type '{record_type}'. Known: {', '.join(FIELDS)}."
        )
    if field not in FIELDS[record_type]:
        raise RuleInvalid(
            f"{where}: unknown field. Fields of a {record_type}: {', '.join(FIELDS[record_type])}."
        )
    if not isinstance(owner, str) or owner not in systems():
        raise RuleInvalid(f"{where}: the owner must be exactly one of {', '.join(systems())}.")
    if not isinstance(carriers, dict):
        raise RuleInvalid(f"{where}: carriers must map a system to its field name.")
    if owner in carriers:
        raise RuleInvalid(
            f"{where}: {systems()[owner].label} owns the field, so it cannot also carry "
            "a copy; a field never flows into its owner."
        )
    if editable_by not in EDITORS:
        raise RuleInvalid(f"{where}: editable_by must be one of {', '.join(EDITORS)}.")
    if on_disagreement not in ON_DISAGREEMENT:
        raise RuleInvalid(f"{where}: on_disagreement must be one of {', '.join(ON_DISAGREEMENT)}.")
    chosen_in = bool(carriers) and editable_by != "nobody"
    _holds(where, owner, record_type, field, write=chosen_in)
    for system, name in carriers.items():
        if system not in systems():
            raise RuleInvalid(f"{where}: unknown carrier system '{system}'.")
        held_as = _holds(where, system, record_type, field, write=True)
        if str(name).strip() != held_as:
            raise RuleInvalid(
                f"{where}: {systems()[system].label} holds this field as '{held_as}', not '{name}'."
            )


@transaction.atomic
def field_rule_save(
    *,
    record_type: str,
    field: str,
    owner: str,
    carriers: dict,
    editable_by: str,
    on_disagreement: str,
    note: str = "",
    by=None,
) -> FieldRule:
    """Validate and save one rule; its history records who changed it."""
    field_rule_validate(
        record_type=record_type,
        field=field,
        owner=owner,
        carriers=carriers,
        editable_by=editable_by,
        on_disagreement=on_disagreement,
    )
    rule = FieldRule.objects.filter(record_type=record_type, field=field).first() or FieldRule(
        record_type=record_type, field=field
    )
    rule.owner, rule.carriers, rule.editable_by = owner, dict(carriers), editable_by
    rule.on_disagreement, rule.note = on_disagreement, note
    rule._history_user = by
    rule.save()
    return rule


@transaction.atomic
def field_rules_replace(*, rules: list[dict], by=None) -> dict[str, int]:
    """Make the rules exactly these (validated first, all or nothing); return what changed."""
    for rule in rules:
        field_rule_validate(**{k: rule[k] for k in RULE_KEYS if k != "note"})
    wanted = {(r["record_type"], r["field"]) for r in rules}
    if len(wanted) != len(rules):
        raise RuleInvalid("A field appears twice; each field has one rule.")
    counts = {"saved": 0, "removed": 0}
    for rule in FieldRule.objects.all():
        if (rule.record_type, rule.field) not in wanted:
            rule._history_user = by
            rule.delete()
            counts["removed"] += 1
    for rule in rules:
        field_rule_save(**{k: rule.get(k, "") for k in RULE_KEYS}, by=by)
        counts["saved"] += 1
    return counts


def field_rules_defaults_load() -> int:
    """Add the business's default rule for every field that has no rule; return how many.

    The defaults name roles (crm, finance, operations); the connectors configured for
    those roles give the system names and what each system calls the field.
    """
    added = 0
    for (record_type, field), (
        owner,
        carriers,
        editable_by,
        on_disagreement,
    ) in DEFAULT_RULES.items():
        if FieldRule.objects.filter(record_type=record_type, field=field).exists():
            continue
        named = {connector(role).system: connector(role) for role in carriers}
        field_rule_save(
            record_type=record_type,
            field=field,
            owner=connector(owner).system,
            carriers={system: c.fields[(record_type, field)] for system, c in named.items()},
            editable_by=editable_by,
            on_disagreement=on_disagreement,
            note="The business's default.",
        )
        added += 1
    return added


def values_agreed(*, record: Record, values: dict[str, Value]) -> None:
    """Remember that the systems hold these values now: the hub just copied them from one
    system into another (a contact made from the register's customer, a job from a deal).
    One statement, whatever the number of fields."""
    AgreedValue.objects.bulk_create(
        [AgreedValue(record=record, field=f, value=stored(v)) for f, v in values.items()],
        update_conflicts=True,
        unique_fields=["record", "field"],
        update_fields=["value", "agreed_at"],
    )
