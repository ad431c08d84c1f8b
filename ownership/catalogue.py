"""The shared fields the hub knows, per record type, and the business's default owners.

A maintainer looking for "who owns the billing address?" starts here (defaults) and
then in the dashboard's ownership rules (what the admins changed since).
"""

SYSTEMS = {"xero": "Xero", "hubspot": "HubSpot", "operations": "Operations"}
EDITORS = {"admin": "Admins", "staff": "Office staff", "nobody": "Nobody"}
ON_DISAGREEMENT = {
    "flag": "Flag it for review",
    "restore": "Restore the owner's value",
    "ignore": "Ignore it",
}

# (record type, field): (owner, {carrier system: field name there}, editable by, on disagreement)
DEFAULT_RULES: dict[tuple[str, str], tuple[str, dict[str, str], str, str]] = {
    ("customer", "billing_name"): (
        "xero",
        {"hubspot": "name", "operations": "name"},
        "admin",
        "flag",
    ),
    ("customer", "billing_address"): (
        "xero",
        {"hubspot": "address", "operations": "address"},
        "staff",
        "flag",
    ),
    ("customer", "tax_number"): ("xero", {"hubspot": "abn"}, "admin", "restore"),
    ("customer", "account_notes"): ("hubspot", {}, "staff", "ignore"),
    ("contact", "name"): ("hubspot", {"xero": "FirstName LastName"}, "staff", "flag"),
    ("contact", "email"): (
        "hubspot",
        {"xero": "EmailAddress", "operations": "email"},
        "staff",
        "flag",
    ),
    ("contact", "phone"): ("hubspot", {"xero": "Phones", "operations": "phone"}, "staff", "flag"),
    ("deal", "sales_stage"): ("hubspot", {}, "nobody", "ignore"),
    ("deal", "amount"): ("hubspot", {"operations": "amount"}, "nobody", "flag"),
    ("deal", "line_items"): ("hubspot", {"operations": "lines"}, "nobody", "flag"),
    ("job", "status"): ("operations", {"hubspot": "job_status"}, "staff", "restore"),
    ("job", "schedule"): ("operations", {"hubspot": "job_scheduled_start"}, "staff", "restore"),
    ("job", "site_address"): ("operations", {}, "staff", "ignore"),
    ("job", "site_notes"): ("operations", {}, "staff", "ignore"),
    ("job", "delivery_evidence"): ("operations", {}, "staff", "ignore"),
    ("invoice", "status"): (
        "xero",
        {"operations": "invoice_status", "hubspot": "payment_status"},
        "nobody",
        "restore",
    ),
    ("invoice", "amount_paid"): (
        "xero",
        {"operations": "amount_paid", "hubspot": "amount_paid"},
        "nobody",
        "restore",
    ),
    ("invoice", "last_payment_date"): (
        "xero",
        {"hubspot": "last_payment_date"},
        "nobody",
        "restore",
    ),
}

FIELDS: dict[str, list[str]] = {}
for _record_type, _field in DEFAULT_RULES:
    FIELDS.setdefault(_record_type, []).append(_field)
