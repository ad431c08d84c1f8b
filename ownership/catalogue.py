"""The shared fields the hub knows, per record type, and the business's default owners.

A maintainer looking for "who owns the billing address?" starts here (defaults) and
then in the dashboard's ownership rules (what the admins changed since). Which system
can hold which field, under which name, is each connector's `fields`.
"""

from dataclasses import dataclass

EDITORS = {"admin": "Admins", "staff": "Office staff", "nobody": "Nobody"}
ON_DISAGREEMENT = {
    "flag": "Flag it for review",
    "restore": "Restore the owner's value",
    "ignore": "Ignore it",
}


@dataclass(frozen=True)
class Field:
    """A shared field: its kind of value (how it is compared) and what people call it."""

    kind: str
    label: str


FIELDS: dict[str, dict[str, Field]] = {
    "customer": {
        "billing_name": Field("name", "billing name"),
        "billing_address": Field("address", "billing address"),
        "tax_number": Field("abn", "ABN"),
        "account_notes": Field("text", "account notes"),
        "contact_name": Field("name", "contact person"),
        "email": Field("email", "email address"),
        "phone": Field("phone", "phone number"),
    },
    "deal": {
        "sales_stage": Field("status", "sales stage"),
        "amount": Field("money", "amount promised"),
        "line_items": Field("lines", "lines promised"),
    },
    "job": {
        "number": Field("text", "job number"),
        "status": Field("status", "job status"),
        "schedule": Field("date", "scheduled start"),
        "site_address": Field("text", "site address"),
        "site_notes": Field("text", "site notes"),
        "delivery_evidence": Field("text", "delivery evidence"),
    },
    "invoice": {
        "number": Field("text", "invoice number"),
        "status": Field("status", "payment status"),
        "total": Field("money", "invoice total"),
        "amount_paid": Field("money", "amount paid"),
        "amount_due": Field("money", "amount due"),
        "last_payment_date": Field("date", "last payment date"),
    },
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
