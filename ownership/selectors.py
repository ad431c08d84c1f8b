"""Reads of canonical records, their links, and the field rules."""

from ownership.models import FieldRule, Link, Record


def link_external_id(*, record: Record, system: str) -> str | None:
    """Return the record's id in that system, or None when it has none yet."""
    return (
        Link.objects.filter(record=record, system=system)
        .values_list("external_id", flat=True)
        .first()
    )


def field_decision(*, record_type: str, field: str, changed_in: str) -> str:
    """Say what to do with a change to a field made in one system.

    "propagate": the owner changed it, so it flows to every carrier; otherwise the
    rule's on_disagreement for a non-owner ("flag", "restore" or "ignore"), or
    "unknown" for a field without a rule.
    """
    rule = FieldRule.objects.filter(record_type=record_type, field=field).first()
    if rule is None:
        return "unknown"
    return "propagate" if changed_in == rule.owner else rule.on_disagreement


def rule_carried_as(
    *, record_type: str, system: str, name: str, owner: str | None = None
) -> FieldRule | None:
    """Return the rule whose copy in `system` is the field called `name` there, if any."""
    rules = FieldRule.objects.filter(record_type=record_type)
    for rule in rules.filter(owner=owner) if owner else rules:
        if rule.carriers.get(system) == name:
            return rule
    return None
