"""The shared fields the hub knows, per record type, and the business's default owners.

A maintainer looking for "who owns the billing address?" starts here (defaults) and
then in the dashboard's ownership rules (what the admins changed since). Which system
can hold which field, under which name, is each connector's `fields`.
"""

from dataclasses import dataclass

from integration_hub import labels

EDITORS = labels.EDITORS
ON_DISAGREEMENT = labels.ON_DISAGREEMENT


@dataclass(frozen=True)
class Field:
    """A shared field: its kind of value (how it is compared) and what people call it
    (integration_hub/labels.py's FIELDS)."""

    kind: str
    label: str


# Each record type's shared fields and the kind of value each holds.
KINDS: dict[str, dict[str, str]] = {
    "customer": {
        "billing_name": "name",
        "billing_address": "address",
        "tax_number": "abn",
        "account_notes": "text",
        "contact_name": "name",
        "email": "email",
        "phone": "phone",
    },
    "deal": {
        "sales_stage": "status",
        "amount": "money",
        "line_items": "lines",
    },
    "job": {
        "number": "text",
        "status": "status",
        "schedule": "date",
        "site_address": "text",
        "site_notes": "text",
        "delivery_evidence": "text",
    },
    "invoice": {
        "number": "text",
        "status": "status",
        "total": "money",
        "amount_paid": "money",
        "amount_due": "money",
        "last_payment_date": "date",
    },
}

FIELDS: dict[str, dict[str, Field]] = {
    record_type: {
        name: Field(kind, labels.FIELDS[record_type][name]) for name, kind in kinds.items()
    }
    for record_type, kinds in KINDS.items()
}

# (record type, field): (owner's role, carriers' roles, editable by, on disagreement).
# Roles, not vendors: they become system names (hubspot, xero, operations) when loaded.
DEFAULT_RULES: dict[tuple[str, str], tuple[str, tuple[str, ...], str, str]] = {
    ("customer", "billing_name"): ("finance", ("crm", "operations"), "admin", "flag"),
    ("customer", "billing_address"): ("finance", ("crm", "operations"), "staff", "flag"),
    ("customer", "tax_number"): ("finance", ("crm", "operations"), "admin", "restore"),
    ("customer", "account_notes"): ("crm", (), "staff", "ignore"),
    ("customer", "contact_name"): ("crm", ("finance", "operations"), "staff", "flag"),
    ("customer", "email"): ("crm", ("finance", "operations"), "staff", "flag"),
    ("customer", "phone"): ("crm", ("finance", "operations"), "staff", "flag"),
    ("deal", "sales_stage"): ("crm", (), "nobody", "ignore"),
    ("deal", "amount"): ("crm", ("operations",), "nobody", "flag"),
    ("deal", "line_items"): ("crm", ("operations",), "nobody", "flag"),
    ("job", "number"): ("operations", ("crm",), "nobody", "restore"),
    ("job", "status"): ("operations", ("crm",), "staff", "restore"),
    ("job", "schedule"): ("operations", ("crm",), "nobody", "restore"),
    ("job", "site_address"): ("operations", (), "staff", "ignore"),
    ("job", "site_notes"): ("operations", (), "staff", "ignore"),
    ("job", "delivery_evidence"): ("operations", (), "staff", "ignore"),
    ("invoice", "number"): ("finance", ("operations", "crm"), "nobody", "restore"),
    ("invoice", "status"): ("finance", ("operations", "crm"), "nobody", "restore"),
    ("invoice", "total"): ("finance", ("operations",), "nobody", "restore"),
    ("invoice", "amount_paid"): ("finance", ("operations", "crm"), "nobody", "restore"),
    ("invoice", "amount_due"): ("finance", ("operations", "crm"), "nobody", "restore"),
    ("invoice", "last_payment_date"): ("finance", ("crm",), "nobody", "restore"),
}


def field_of(record_type: str, name: str) -> Field:
    """Return the field's kind and label (KeyError for a field the hub does not know)."""
    return FIELDS[record_type][name]
