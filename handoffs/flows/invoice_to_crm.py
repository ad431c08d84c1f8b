"""Invoice changed in Xero (approved, paid, part-paid, voided) → the job and the HubSpot deal.

Xero sends INVOICE webhooks but none for payments, so polling (handoffs/xero_poll.py)
also produces these events. Every run reads the invoice as it is now, so a repeated or
late event writes the same values again and nothing else.
"""

from decimal import Decimal

from connectors.base import BusinessEvent
from connectors.hubspot.client import HubSpotClient
from connectors.xero.accounting import XeroAccounting
from connectors.xero.mapping import invoice_facts
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Job
from operations.services import job_finance_update
from ownership.models import Record
from ownership.selectors import link_external_id
from ownership.services import link_add, record_for_link


def key(happened: BusinessEvent) -> str:
    """One run per change seen (a webhook's event time, or a poll's UpdatedDateUTC)."""
    return f"xero:invoice:{happened.object_id}:{happened.data.get('event')}"


def payment_status(facts: dict) -> str:
    """Return what the CRM shows: draft, awaiting payment, part paid, paid or voided."""
    if facts["status"] in ("PAID", "VOIDED", "DELETED", "DRAFT", "SUBMITTED"):
        return facts["status"].lower()
    return "part_paid" if Decimal(facts["amount_paid"]) > 0 else "awaiting_payment"


def deal_properties(facts: dict) -> dict[str, str]:
    return {
        "invoice_number": facts["number"],
        "payment_status": payment_status(facts),
        "amount_paid": facts["amount_paid"],
        "amount_due": facts["amount_due"],
        "last_payment_date": facts["paid_on"],
    }


def _payment_summary(invoice_id: str, facts: dict, job: Job) -> None:
    """Keep the invoice's payment summary as a record linked in each system that shows it."""
    summary = record_for_link(
        type=Record.Type.PAYMENT,
        system="xero",
        external_id=invoice_id,
        label=f"{facts['number']}: paid {facts['amount_paid']} of {facts['total']}",
    )
    shown = {"operations": job.number}
    if job.origin_system == "hubspot":
        shown["hubspot"] = job.origin_ref
    for system, external_id in shown.items():
        if link_external_id(record=summary, system=system) is None:
            link_add(record=summary, system=system, external_id=external_id)


def perform(run: HandoffRun) -> Outcome:
    """Record the invoice on its job and show its payment state on the job's deal.

    A polled event carries the invoice as the poll read it; a webhook carries only its id,
    so the invoice is read from Xero.
    """
    facts = run.payload.get("invoice")
    if facts is None:
        xero = XeroAccounting.connected(run.payload.get("tenant"))
        facts = invoice_facts(xero.invoice_get(run.record_ref))
    job = Job.objects.filter(number=facts["reference"]).first() if facts["reference"] else None
    if facts["type"] != "ACCREC" or job is None:
        return Outcome(
            f"Invoice {facts['number']} is not one the hub raised for a job.", skipped=True
        )
    run.record_label = f"{facts['number']} for {job.number}"
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    known = (job.invoice_number, job.invoice_status, job.amount_paid)
    if known == (facts["number"], facts["status"], Decimal(facts["amount_paid"])):
        # The hub's own write coming back, or a change already carried: nothing to tell.
        return Outcome(f"Job {job.number} already shows {facts['number']} as it is.", skipped=True)
    job = job_finance_update(
        job=job,
        invoice_number=facts["number"],
        invoice_status=facts["status"],
        amount_invoiced=Decimal(facts["total"]),
        amount_paid=Decimal(facts["amount_paid"]),
    )
    if Decimal(facts["amount_paid"]) > 0:
        _payment_summary(run.record_ref, facts, job)
    properties = deal_properties(facts)
    told = ""
    if job.origin_system == "hubspot":
        HubSpotClient().deal_update(job.origin_ref, properties)
        told = f"; deal {job.origin_ref} shows {properties['payment_status']}"
    return Outcome(
        f"Invoice {facts['number']} is {properties['payment_status']} "
        f"(paid {facts['amount_paid']}, due {facts['amount_due']}); "
        f"job {job.number} is {job.get_status_display().lower()}{told}.",
        result=properties,
    )


handoff_register(
    Handoff(
        name="invoice_to_crm",
        label="Invoice payments to the job and the CRM",
        # An invoice the hub creates comes back as a CREATE event: nothing to carry.
        listens_to=frozenset({"invoice.updated"}),
        queue="xero",
        record_type="invoice",
        key=key,
        perform=perform,
    )
)
