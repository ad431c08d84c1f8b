"""Writes to canonical records and their links."""

from django.db import transaction

from ownership.catalogue import DEFAULT_RULES, EDITORS, FIELDS, ON_DISAGREEMENT, SYSTEMS
from ownership.models import FieldRule, Link, Record

RULE_KEYS = ("record_type", "field", "owner", "carriers", "editable_by", "on_disagreement", "note")


@transaction.atomic
def record_for_link(*, type: str, system: str, external_id: str, label: str = "") -> Record:
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
    Link.objects.create(record=record, record_type=type, system=system, external_id=external_id)
    return record


def link_add(*, record: Record, system: str, external_id: str) -> Link:
    """Link a record to its id in another system."""
    return Link.objects.create(
        record=record, record_type=record.type, system=system, external_id=external_id
    )


class RuleInvalid(ValueError):
    """A field rule breaks the ownership rules; the message says which and how."""


def field_rule_validate(
    *,
    record_type: str,
    field: str,
    owner: str,
    carriers: dict,
    editable_by: str,
    on_disagreement: str,
) -> None:
    """Raise RuleInvalid unless the rule names a known field, one owner, and valid carriers."""
    where = f"{record_type}.{field}"
    if record_type not in FIELDS:
        raise RuleInvalid(
            f"{where}: unknown record type '{record_type}'. Known: {', '.join(FIELDS)}."
        )
    if field not in FIELDS[record_type]:
        raise RuleInvalid(
            f"{where}: unknown field. Fields of a {record_type}: {', '.join(FIELDS[record_type])}."
        )
    if not isinstance(owner, str) or owner not in SYSTEMS:
        raise RuleInvalid(f"{where}: the owner must be exactly one of {', '.join(SYSTEMS)}.")
    if not isinstance(carriers, dict):
        raise RuleInvalid(f"{where}: carriers must map a system to its field name.")
    if owner in carriers:
        raise RuleInvalid(
            f"{where}: {SYSTEMS[owner]} owns the field, so it cannot also carry "
            "a copy; a field never flows into its owner."
        )
    for system, name in carriers.items():
        if system not in SYSTEMS:
            raise RuleInvalid(f"{where}: unknown carrier system '{system}'.")
        if not str(name).strip():
            raise RuleInvalid(f"{where}: say what {SYSTEMS[system]} calls this field.")
    if editable_by not in EDITORS:
        raise RuleInvalid(f"{where}: editable_by must be one of {', '.join(EDITORS)}.")
    if on_disagreement not in ON_DISAGREEMENT:
        raise RuleInvalid(f"{where}: on_disagreement must be one of {', '.join(ON_DISAGREEMENT)}.")


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
    """Add the business's default rule for every field that has no rule; return how many."""
    added = 0
    for (record_type, field), (
        owner,
        carriers,
        editable_by,
        on_disagreement,
    ) in DEFAULT_RULES.items():
        if not FieldRule.objects.filter(record_type=record_type, field=field).exists():
            field_rule_save(
                record_type=record_type,
                field=field,
                owner=owner,
                carriers=carriers,
                editable_by=editable_by,
                on_disagreement=on_disagreement,
                note="The business's default.",
            )
            added += 1
    return added
