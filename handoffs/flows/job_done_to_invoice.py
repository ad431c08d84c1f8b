"""Job finished in operations → one DRAFT invoice in Xero, with its lines, item codes and tax."""

import hashlib
import re

from django.conf import settings
from xero_python.accounting import Contact, Invoice, LineAmountTypes, LineItem

from connectors.base import BusinessEvent
from connectors.errors import AuthExpired, Invalid
from connectors.models import XeroConnection
from connectors.xero.accounting import XeroAccounting
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Job, JobLine
from operations.services import job_finance_update
from ownership.models import Record
from ownership.selectors import link_external_id
from ownership.services import link_add, record_for_link

BAD_ITEM_CODE = re.compile(r"Item code '([^']+)' is not valid")
TAX_TYPES = {
    JobLine.Tax.GST: "OUTPUT",
    JobLine.Tax.GST_FREE: "EXEMPTOUTPUT",
    JobLine.Tax.NONE: "BASEXCLUDED",
}


def key(happened: BusinessEvent) -> str:
    """One invoice per job, however often the job is completed."""
    return f"operations:job:{happened.object_id}:invoice"


def _connection() -> XeroConnection:
    connection = XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED).first()
    if connection is None:
        # One cause for every finished job: one "connect Xero" item, and Retry resumes them all.
        raise AuthExpired(
            "No Xero organisation is connected, so finished jobs cannot be invoiced.",
            system="xero",
            code="not_connected",
            fix="An admin connects Xero from the hub's settings page.",
        )
    return connection


def _contact_id(xero: XeroAccounting, job: Job) -> str:
    """Find the customer's Xero contact (link, then ContactNumber) or create it."""
    record = record_for_link(
        type=Record.Type.CUSTOMER,
        system="operations",
        external_id=str(job.customer_id),
        label=job.customer.name,
    )
    linked = link_external_id(record=record, system="xero")
    if linked:
        return linked
    number = f"HUB-{record.pk}"
    contact_id = xero.contact_find(contact_number=number) or xero.contact_create(
        name=job.customer.name, contact_number=number, email=job.customer.email
    )
    link_add(record=record, system="xero", external_id=contact_id)
    return contact_id


def perform(run: HandoffRun) -> Outcome:
    """Create the draft invoice (once: the Idempotency-Key is the job's), link it, mark the job."""
    job = Job.objects.select_related("customer").get(number=run.record_ref)
    run.record_label = f"{job.number} {job.title}"
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    if job.invoice_number:
        return Outcome(f"Job {job.number} already has invoice {job.invoice_number}.", skipped=True)
    xero = XeroAccounting(_connection())
    lines = [
        LineItem(
            description=line.description,
            quantity=float(line.quantity),
            unit_amount=float(line.unit_price),
            item_code=line.item_code or None,
            account_code=settings.XERO_SALES_ACCOUNT,
            tax_type=TAX_TYPES[line.tax],
        )
        for line in job.lines.all()
    ]
    draft = Invoice(
        type="ACCREC",
        contact=Contact(contact_id=_contact_id(xero, job)),
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        status="DRAFT",
        reference=job.number,
        line_items=lines,
    )
    # Deterministic, so a retry after a lost answer replays Xero's first answer instead of
    # making a second invoice; and tied to the content, so a corrected job is a new request.
    content = hashlib.sha256(
        repr([(lb.item_code, lb.quantity, lb.unit_amount, lb.tax_type) for lb in lines]).encode()
    ).hexdigest()[:16]
    (made,) = xero.invoices_create([draft], idempotency_key=f"hub-job-{job.number}-{content}")
    if made.has_errors:
        messages = "; ".join(e.message for e in made.validation_errors or [])
        bad_codes = sorted(set(BAD_ITEM_CODE.findall(messages)))
        raise Invalid(
            f"Xero would not take the invoice for job {job.number}: {messages}",
            system="xero",
            code="invoice_rejected",
            fix="Choose the Xero item code to use instead and press 'Use this item code', or "
            "add the item in Xero and press Retry.",
            details={"job": job.number, "bad_item_codes": bad_codes} if bad_codes else {},
        )
    record_for_link(
        type=Record.Type.INVOICE,
        system="xero",
        external_id=made.invoice_id,
        label=made.invoice_number,
    )
    job_finance_update(
        job=job,
        invoice_number=made.invoice_number,
        invoice_status=made.status,
        amount_invoiced=made.total,
    )
    return Outcome(
        f"Draft invoice {made.invoice_number} for {made.total} created in Xero.",
        result={"invoice_id": made.invoice_id, "number": made.invoice_number},
    )


handoff_register(
    Handoff(
        name="job_done_to_invoice",
        label="Finished job to a draft invoice",
        listens_to=frozenset({"job.completed"}),
        queue="xero",
        record_type="job",
        key=key,
        perform=perform,
    )
)
