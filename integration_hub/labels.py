"""Plain words for every internal name staff could see: the one place that says them.

The hub's code speaks in codes (`job_status`, `link_existing`, `shared_fields`, `on_hold`,
`hubspot`); staff read the words below. Pages use the `plain` filter
(`{{ item.system|plain:"system" }}`, integration_hub/label_filters.py); messages, audit
entries and history call `label()` and the helpers at the end. The models' choices, the
handoffs' and review actions' labels and the ownership catalogue take their words from
here. tests/test_plain_words.py fails when a code any of them knows has no words here, or when
a page shows a code as it is.

This module imports nothing from the apps, so every layer may use it.
"""

from django.utils.text import capfirst
from django.utils.translation import ngettext

# The systems (connectors' names, and the hub itself).
SYSTEMS = {
    "hubspot": "HubSpot",
    "xero": "Xero",
    "operations": "the job register",
    "hub": "the hub",
}

# The kinds of record the hub links across the systems, and the ones events name.
RECORD_TYPES = {
    "customer": "customer",
    "deal": "deal",
    "job": "job",
    "invoice": "invoice",
    "contact": "contact person",
    "line_item": "deal line",
    "quote": "quote",
    "credit_note": "credit note",
    "creditnote": "credit note",
    # A record the hub keeps for its own links (a person's choice names it).
    "record": "record",
}

# Review items (review_queue.models.ReviewItem).
ITEM_KINDS = {
    "missing_data": "Missing or invalid data",
    "connection": "Connection needs attention",
    "unavailable": "A system is not answering",
    "possible_duplicate": "Possible duplicate",
    "disagreement": "Systems disagree",
    "quote_changed": "Quote changed after work started",
    "promise_differs": "Promised amount differs from the lines",
    "figures_differ": "Invoice figures differ from the hub's",
    "tracking_not_kept": "Invoice tracking not kept in Xero",
    "approved_invoice_changed": "Job changed after its invoice was approved",
    "active_job_affected": "Customer change affects an active job",
    "handoff_failed": "Handoff failed",
    "found": "Found by the check that the systems agree",
    "customer_merged": "Customer merged into one linked elsewhere",
    "customer_archived": "Customer archived in its system",
}
ITEM_STATUSES = {"open": "Open", "resolved": "Resolved", "dismissed": "Dismissed"}

# What a person (or the hub) did to an item: the review log's and the resolution's words,
# and the actions' buttons (handoffs/review_actions/).
REVIEW_ACTIONS = {
    "retry": "Retry",
    "check_again": "Run the check again",
    "link_existing": "Same customer: link",
    "merge_existing": "Same customer: link and fill in its details",
    "create_new": "Different customer",
    "use_item_code": "Use this item code",
    "use_lines": "Use the lines",
    "fix_deal": "Fix the deal",
    "apply_to_job": "Apply to the job",
    "credit_and_redraft": "Credit the invoice and raise a new draft",
    "keep_invoice": "Keep the invoice as it is",
    "reconnected": "Resume: the system is connected again",
    "keep_owner": "Keep the owner's value",
    "take_other": "Use the other system's value",
    "dismiss": "Dismiss",
    "assign": "Assign",
    "settled": "Closed by itself: the systems agree again",
    "merge_customers": "One business: merge them in the hub",
    "merged_is_mine": "Two businesses: the merged record is this customer's",
    "merged_is_theirs": "Two businesses: the merged record stays the other's",
    "look_again": "Restored there: check again",
    "link_another": "Link another contact, or a new one",
}

# The handoffs (handoffs/flows/), by what they do.
HANDOFFS = {
    "deal_won_to_job": "Won deal to job",
    "quote_accepted_to_job": "Accepted quote to job",
    "job_done_to_invoice": "Finished job to a draft invoice",
    "promised_amount": "Promised amount checked against the lines",
    "approved_invoice": "Changed job checked against its approved invoice",
    "credit_and_redraft": "Approved invoice credited and a new draft raised",
    "shared_fields": "Shared fields kept to their owners",
}
RUN_STATES = {
    "pending": "Waiting for a worker",
    "running": "Running",
    "retrying": "Will retry",
    "done": "Done",
    "skipped": "Nothing to do",
    "needs_review": "Waiting on a review item",
    "dismissed": "Dismissed",
}
ATTEMPT_OUTCOMES = {
    "running": "Running",
    "done": "Done",
    "skipped": "Nothing to do",
    "retry": "Failed, will retry",
    "waited": "Waiting for a limit; will go on (not a failure)",
    "lost": "Its worker stopped; the hub took the run back",
    "failed": "Failed, sent to review",
}
# Worker queues, named after the system a handoff calls most.
QUEUES = {
    "default": "the hub",
    "hubspot": "HubSpot",
    "xero": "Xero",
    "operations": "the job register",
}

# The inbox (handoffs.models.InboundEvent, WebhookDelivery).
EVENT_STATES = {
    "pending": "Waiting to be processed",
    "processed": "Processed",
    "ignored": "No handoff listens to it",
}
DELIVERY_OUTCOMES = {
    "accepted": "Accepted",
    "duplicate": "Duplicate (already stored)",
    "refused": "Refused: bad signature",
    "malformed": "Refused: malformed body",
    "too_large": "Refused: body too large",
    "suppressed": "Refused: too many to keep, counted",
}

# What happened, as each system's event names it and as the hub's business events do.
EVENTS = {
    # The hub's business events (connectors' normalisers; handoffs listen to these).
    "deal.stage_changed": "deal moved to another stage",
    "deal.created": "deal created",
    "deal.changed": "deal changed",
    "deal.updated": "deal changed",
    "deal.deleted": "deal deleted",
    "customer.created": "customer created",
    "customer.changed": "customer changed",
    "customer.updated": "customer changed",
    "customer.deleted": "customer deleted",
    "customer.merged": "customers merged into one",
    "contact.created": "contact person created",
    "contact.changed": "contact person changed",
    "contact.updated": "contact person changed",
    "contact.deleted": "contact person deleted",
    "contact.merged": "contact people merged into one",
    "line_item.created": "deal line created",
    "line_item.changed": "deal line changed",
    "line_item.deleted": "deal line deleted",
    "invoice.created": "invoice created",
    "invoice.changed": "invoice changed",
    "invoice.updated": "invoice changed",
    "credit_note.created": "credit note created",
    "credit_note.updated": "credit note changed",
    "quote.accepted": "quote accepted",
    "quote.changed": "quote changed",
    "quote.updated": "quote changed",
    "record.choice": "a person chose a value",
    # The job register's outbox (operations/services.py).
    "job.created": "job created",
    "job.changed": "job changed",
    "job.updated": "job changed",
    "job.status_changed": "job status changed",
    "job.completed": "job done and signed off",
    "job.rescheduled": "job rescheduled",
    "job.site_changed": "job site changed",
    "job.evidence_added": "delivery evidence added",
    "job.material_added": "material added",
    "job.promise_changed": "what the job promises changed",
    "job.lines_recoded": "job lines given another item code",
    "job.lines_taxed": "job lines taxed another way",
    "job.credit_requested": "a person asked to credit the job's invoice and draft anew",
    "job.imported": "job imported from a spreadsheet",
    # HubSpot's webhook subscriptions.
    "deal.creation": "deal created",
    "deal.propertyChange": "deal changed",
    "deal.deletion": "deal deleted",
    "company.creation": "company created",
    "company.propertyChange": "company changed",
    "company.deletion": "company deleted",
    "company.merge": "companies merged",
    "contact.creation": "contact created",
    "contact.propertyChange": "contact changed",
    "contact.deletion": "contact deleted",
    "contact.merge": "contacts merged",
    "line_item.creation": "deal line created",
    "line_item.propertyChange": "deal line changed",
    "line_item.deletion": "deal line deleted",
    # Xero's webhooks and what the hub polls.
    "INVOICE.CREATE": "invoice created",
    "INVOICE.UPDATE": "invoice changed",
    "CREDITNOTE.CREATE": "credit note created",
    "CREDITNOTE.UPDATE": "credit note changed",
    "CONTACT.CREATE": "contact created",
    "CONTACT.UPDATE": "contact changed",
    "QUOTE.CREATE": "quote created",
    "QUOTE.UPDATE": "quote changed",
}

# The check that the systems agree (handoffs.models.ReconcileRun, ReconcileFinding) and the
# first match (onboarding.models.FirstMatch).
CHECK_STATES = {"running": "Running", "done": "Done", "failed": "Did not finish"}
FINDING_KINDS = {
    "carried": "Owner's new value carried",
    "restored": "Owner's value restored",
    "flagged": "Sent to review (the systems disagree)",
    "missing": "No longer in a system",
    "deal_lost": "Deal lost while its job is active",
    "not_invoiced": "Job done but not invoiced",
    "invoice_without_job": "Invoice with no job",
    "linked": "Customer linked across systems",
    "unlinked": "Customer in one system only (no match elsewhere)",
    "retried": "Could not be checked now; its own run retries",
}
PROPOSAL_STATES = {
    "open": "To decide",
    "linked": "Linked",
    "new": "A different customer",
    "skipped": "Left unlinked",
}

# The ownership rules.
EDITORS = {"admin": "Admins", "staff": "Office staff", "nobody": "Nobody"}
ON_DISAGREEMENT = {
    "flag": "Flag it for review",
    "restore": "Restore the owner's value",
    "ignore": "Ignore it",
}

# The shared fields (ownership/catalogue.py), per record type.
FIELDS = {
    "customer": {
        "billing_name": "billing name",
        "billing_address": "billing address",
        "tax_number": "ABN",
        "account_notes": "account notes",
        "contact_name": "contact person",
        "email": "email address",
        "phone": "phone number",
    },
    "deal": {
        "sales_stage": "sales stage",
        "amount": "amount promised",
        "line_items": "lines promised",
    },
    "job": {
        "number": "job number",
        "status": "job status",
        "schedule": "scheduled start",
        "site_address": "site address",
        "site_notes": "site notes",
        "delivery_evidence": "delivery evidence",
    },
    "invoice": {
        "number": "invoice number",
        "status": "payment status",
        "total": "invoice total",
        "amount_paid": "amount paid",
        "amount_due": "amount due",
        "last_payment_date": "last payment date",
    },
}

# What each system calls a shared field on its own screens (the connectors' `fields` are
# the names their APIs use).
SYSTEM_FIELDS = {
    "hubspot": {
        "name": "Company name",
        "address": "Street address, City, State, Postal code",
        "abn": "ABN",
        "description": "Description",
        "contact": "the main contact's name",
        "email": "the main contact's email",
        "phone": "Phone number",
        "dealstage": "Deal stage",
        "amount": "Amount",
        "line_items": "Line items",
        "job_number": "Job number",
        "job_status": "Job status",
        "job_scheduled_start": "Job scheduled start",
        "invoice_number": "Invoice number",
        "payment_status": "Payment status",
        "amount_paid": "Amount paid",
        "amount_due": "Amount due",
        "last_payment_date": "Last payment date",
        # Read, not shared: what else a webhook may say changed.
        "city": "City",
        "state": "State/Region",
        "zip": "Postal code",
        "country": "Country/Region",
        "domain": "Company domain name",
        "dealname": "Deal name",
        "closedate": "Close date",
        "pipeline": "Pipeline",
        "site_address": "Site address",
        "deal_currency_code": "Currency",
        "firstname": "First name",
        "lastname": "Last name",
        "jobtitle": "Job title",
        "hs_sku": "SKU",
        "quantity": "Quantity",
        "price": "Unit price",
    },
    "xero": {
        "Name": "Contact name",
        "Addresses (POBOX)": "Postal address",
        "TaxNumber": "Tax number",
        "FirstName LastName": "Primary person",
        "EmailAddress": "Email",
        "Phones": "Phone",
        "InvoiceNumber": "Invoice number",
        "Status": "Status",
        "Total": "Total",
        "AmountPaid": "Paid",
        "AmountDue": "Due",
        "FullyPaidOnDate": "Paid on",
    },
    "operations": {
        "name": "Name",
        "address": "Address",
        "tax_number": "ABN",
        "contact_name": "Contact",
        "email": "Email",
        "phone": "Phone",
        "amount": "Promised",
        "lines": "What sales promised",
        "number": "Job number",
        "status": "Status",
        "scheduled_start": "Scheduled",
        "site_address": "Site address",
        "site_notes": "Site notes",
        "evidence": "Delivery evidence",
        "invoice_number": "Invoice",
        "invoice_status": "Invoice status",
        "amount_invoiced": "Invoiced",
        "amount_paid": "Paid",
        "amount_due": "Balance due",
    },
}

# The job register (operations.models).
JOB_STATUSES = {
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "on_hold": "On hold",
    "done": "Done",
    "invoiced": "Invoiced",
    "paid": "Paid",
    "cancelled": "Cancelled",
}
PAYMENT_STATUSES = {
    "draft": "Draft",
    "submitted": "Awaiting approval",
    "awaiting_payment": "Awaiting payment",
    "part_paid": "Part paid",
    "paid": "Paid",
    "credited": "Credited",
    "voided": "Voided",
    "deleted": "Deleted",
}

# Coded values of shared fields, as staff read them (a disagreement's values, its outcome).
FIELD_VALUES = {("job", "status"): JOB_STATUSES, ("invoice", "status"): PAYMENT_STATUSES}


def value_label(record_type: str, field: str, value: str) -> str:
    """A shared field's coded value (a job's "on_hold") in words; any other value as it is."""
    return FIELD_VALUES.get((record_type, field), {}).get(value, value)


# The job fields admins map to Xero's tracking categories (connectors.models.TrackingMapping).
TRACKING_SOURCES = {
    "crew": "The job's crew",
    "region": "The job site's state",
    "hubspot": "A HubSpot deal property",
}

# Every namespace by the name the `plain` filter and `label()` take.
NAMESPACES: dict[str, dict[str, str]] = {
    "system": SYSTEMS,
    "record_type": RECORD_TYPES,
    "item_kind": ITEM_KINDS,
    "item_status": ITEM_STATUSES,
    "review_action": REVIEW_ACTIONS,
    "handoff": HANDOFFS,
    "run_state": RUN_STATES,
    "attempt_outcome": ATTEMPT_OUTCOMES,
    "queue": QUEUES,
    "event_state": EVENT_STATES,
    "delivery_outcome": DELIVERY_OUTCOMES,
    "event": EVENTS,
    "check_state": CHECK_STATES,
    "finding_kind": FINDING_KINDS,
    "proposal_state": PROPOSAL_STATES,
    "editor": EDITORS,
    "on_disagreement": ON_DISAGREEMENT,
    "job_status": JOB_STATUSES,
    "payment_status": PAYMENT_STATUSES,
    "tracking_source": TRACKING_SOURCES,
}


def label(namespace: str, code: str) -> str:
    """Return the plain words for a code (the code itself when it has none: a test fails)."""
    return NAMESPACES[namespace].get(code, code)


def choices(namespace: str) -> list[tuple[str, str]]:
    """Return (code, words) pairs for a model field's choices."""
    return list(NAMESPACES[namespace].items())


def system_label(code: str) -> str:
    """Return a system's name as staff say it ("HubSpot", "the job register")."""
    return SYSTEMS.get(code, code)


def field_label(record_type: str, name: str) -> str:
    """Return what staff call a shared field ("ABN", "job status")."""
    return FIELDS.get(record_type, {}).get(name, name)


def system_field_label(system: str, name: str) -> str:
    """Return what a system's own screens call the field its API names `name`."""
    return SYSTEM_FIELDS.get(system, {}).get(name, name)


# Values a system's field takes that are the hub's own codes (the HubSpot properties the hub
# writes take the register's job and payment statuses).
SYSTEM_VALUES = {
    ("hubspot", "job_status"): JOB_STATUSES,
    ("hubspot", "payment_status"): PAYMENT_STATUSES,
}


def property_change(system: str, name: str, value) -> str:
    """Say what a webhook says changed: "Job status → On hold"."""
    words = SYSTEM_VALUES.get((system, name), {}).get(str(value), value)
    shown = "(empty)" if words in (None, "") else words
    return f"{system_field_label(system, name)} → {shown}"


def event_label(code: str) -> str:
    """Return what an event says happened ("job done and signed off")."""
    return EVENTS.get(code, code)


def event_noun(code: str) -> str:
    """Return the kind of record an event is about ("deal" for deal.propertyChange)."""
    noun = code.partition(".")[0].lower()
    return {"company": "customer"}.get(noun, noun)


def record_phrase(system: str, record_type: str, ref: str, name: str = "") -> str:
    """Say which record an id is, in words: "HubSpot deal 1018 (Kitchen rewire)".

    A job is known by its number; anything else by its system, its kind and its id, then
    its name where the hub knows it.
    """
    kind = RECORD_TYPES.get(record_type, record_type)
    if system == "operations" and record_type == "job":
        said = f"job {ref}"
    elif system == "operations" and record_type in ("deal", "invoice"):
        said = f"the {kind} on job {ref}"  # the register keeps both on the job
    elif system == "operations":
        said = f"{kind} no. {ref} in the job register"
    elif system == "hub":  # the hub's own problem about a record it names by id only
        said = f"{kind} {ref}"
    else:
        said = f"{system_label(system)} {kind} {ref}"
    if name.startswith(f"{ref} "):
        name = name[len(ref) + 1 :]
    return f"{said} ({name})" if name and name != ref else said


def count_of(count: int, singular: str, plural: str) -> str:
    """Say "1 handoff" or "3 handoffs" (never "handoff(s)")."""
    return f"{count} {ngettext(singular, plural, count)}"


def sentence(text: str) -> str:
    """Capitalise the first letter (the job register's label starts a sentence)."""
    return capfirst(text)
