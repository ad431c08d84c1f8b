"""Field rules as YAML, so they can live in git and be reviewed; the round trip is lossless."""

import yaml

from ownership.models import FieldRule
from ownership.services import RuleInvalid

KEYS = ("owner", "carriers", "editable_by", "on_disagreement", "note")


def rules_to_yaml() -> str:
    """Return every rule as YAML: record type → field → its rule, sorted."""
    data: dict[str, dict[str, dict]] = {}
    for rule in FieldRule.objects.order_by("record_type", "field"):
        data.setdefault(rule.record_type, {})[rule.field] = {
            key: getattr(rule, key) for key in KEYS
        }
    return yaml.safe_dump(data, sort_keys=True, allow_unicode=True, default_flow_style=False)


def rules_from_yaml(text: str) -> list[dict]:
    """Parse YAML rules into the shape field_rules_replace takes, or raise RuleInvalid."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleInvalid(f"The file is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RuleInvalid("The file must map record types to their fields.")
    rules = []
    for record_type, fields in data.items():
        if not isinstance(fields, dict):
            raise RuleInvalid(f"{record_type}: must map field names to rules.")
        for field, rule in fields.items():
            if not isinstance(rule, dict):
                raise RuleInvalid(f"{record_type}.{field}: must be a rule (owner, carriers, ...).")
            unknown = set(rule) - set(KEYS)
            if unknown:
                raise RuleInvalid(
                    f"{record_type}.{field}: unknown keys {', '.join(sorted(unknown))}; "
                    f"a rule has {', '.join(KEYS)}."
                )
            missing = {"owner"} - set(rule)
            if missing:
                raise RuleInvalid(f"{record_type}.{field}: the owner is missing.")
            rules.append(
                {
                    "record_type": str(record_type),
                    "field": str(field),
                    "owner": rule["owner"],
                    "carriers": rule.get("carriers") or {},
                    "editable_by": rule.get("editable_by", "admin"),
                    "on_disagreement": rule.get("on_disagreement", "flag"),
                    "note": rule.get("note") or "",
                }
            )
    return rules


def rules_table() -> str:
    """Every rule as a Markdown row: what is enforced, from which system to which."""
    from connectors.registry import systems
    from ownership.catalogue import EDITORS, field_of

    labels = {name: store.label for name, store in systems().items()}
    rows = [
        "| record | field | owner | carried to | on a difference | may choose another value |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in FieldRule.objects.order_by("record_type", "field"):
        carried = ", ".join(f"{labels.get(s, s)} `{n}`" for s, n in rule.carriers.items())
        rows.append(
            f"| {rule.record_type} | {field_of(rule.record_type, rule.field).label} | "
            f"{labels.get(rule.owner, rule.owner)} | {carried or '—'} | {rule.on_disagreement} "
            f"| {EDITORS[rule.editable_by]} |"
        )
    return "\n".join(rows) + "\n"
