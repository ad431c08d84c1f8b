"""Job finished in operations → one DRAFT invoice in Xero, with its lines, item codes and tax."""

import hashlib
import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from xero_python.accounting import Contact, Invoice, LineAmountTypes, LineItem

from connectors.base import BusinessEvent
from connectors.errors import Disagreement, Invalid, Waiting
from connectors.models import InvoiceSettings
from connectors.xero.accounting import XeroAccounting
from connectors.xero.errors import refusal
from connectors.xero.mapping import code
from connectors.xero.terms import contacts_terms, due_date
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Job
from operations.services import job_finance_update
from ownership.models import Link, Record
from ownership.selectors import link_external_id
from ownership.services import link_add, record_for_link

# Xero takes up to 50 invoices in one request (its documented batch size).
BATCH_SIZE = 50
BAD_ITEM_CODE = re.compile(r"Item code '([^']+)' is not valid")


def key(happened: BusinessEvent) -> str:
    """One invoice per job, however often the job is completed."""
    return f"operations:job:{happened.object_id}:invoice"


def _contact_id(xero: XeroAccounting, job: Job, run: HandoffRun) -> str:
    """Find the customer's Xero contact or create it, never a second one for the same customer.

    By its link, then the hub's ContactNumber; then one contact with the same ABN is it;
    any other likely match (same email, same name) goes to a person to decide.
    """
    customer = job.customer
    record = record_for_link(
        type=Record.Type.CUSTOMER,
        system="operations",
        external_id=str(customer.pk),
        label=customer.name,
    )
    linked = link_external_id(record=record, system="xero")
    if linked:
        return linked
    number = f"HUB-{record.pk}"
    contact_id = xero.contact_find(contact_number=number)
    if contact_id is None and not run.payload.get("new_customer_confirmed"):
        candidates = xero.contact_candidates(
            name=customer.name, email=customer.email, tax_number=customer.tax_number
        )
        if len(candidates) == 1 and "same ABN" in candidates[0]["why"]:
            contact_id = candidates[0]["id"]
        elif candidates:
            named = "; ".join(f"{c['name']} ({c['why']})" for c in candidates)
            raise Disagreement(
                f"Xero may already have '{customer.name}': {named}. The hub made no second "
                f"contact and no invoice for job {job.number} yet.",
                title="Possible duplicate Xero contact",
                kind="possible_duplicate",
                system="xero",
                fix="Choose: link the customer to the existing Xero contact, or confirm it is "
                "a different customer. The invoice is then created.",
                details={
                    "field": "customer",
                    "target": "xero",
                    "candidates": candidates,
                    "new": {
                        "system": "operations",
                        "external_id": str(customer.pk),
                        "name": customer.name,
                        "email": customer.email,
                        "phone": customer.phone,
                        "address": customer.address,
                        "tax_number": customer.tax_number,
                    },
                },  # fmt: skip
                root=f"operations:customer:{customer.pk}:xero",
            )
    if contact_id is None:
        contact_id = xero.contact_create(
            name=customer.name, contact_number=number, email=customer.email,
            address=customer.address, tax_number=customer.tax_number,
        )  # fmt: skip
    link_add(record=record, system="xero", external_id=contact_id)
    return contact_id


def _draft(xero: XeroAccounting, job: Job, run: HandoffRun, mapping: InvoiceSettings) -> Invoice:
    """Return the DRAFT invoice for the job's lines, to the customer's contact.

    Account and tax types come from the invoice settings admins edit on the Xero page;
    the due date is set later, from the contact's terms.
    """
    lines = [
        LineItem(
            description=line.description,
            quantity=float(line.quantity),
            unit_amount=float(line.unit_price),
            item_code=line.item_code or None,
            account_code=mapping.sales_account,
            tax_type=mapping.tax_type(line.tax),
        )
        for line in job.lines.all()
    ]
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=_contact_id(xero, job, run)),
        line_amount_types=(
            LineAmountTypes.INCLUSIVE if job.prices_include_gst else LineAmountTypes.EXCLUSIVE
        ),
        status="DRAFT",
        reference=job.number,
        date=timezone.localdate(),
        line_items=lines,
    )


def _contacts_next(limit: int = 200) -> list[str]:
    """The Xero contacts of the finished jobs waiting their turn to be invoiced."""
    numbers = HandoffRun.objects.filter(
        handoff="job_done_to_invoice",
        state__in=[HandoffRun.State.PENDING, HandoffRun.State.RETRYING],
    ).values_list("record_ref", flat=True)[:limit]
    customers = Job.objects.filter(number__in=list(numbers)).values_list("customer_id", flat=True)
    records = Link.objects.filter(
        system="operations", record_type="customer", external_id__in=[str(c) for c in customers]
    ).values_list("record_id", flat=True)
    return list(
        Link.objects.filter(system="xero", record_id__in=records).values_list(
            "external_id", flat=True
        )
    )


def _due_dates(xero: XeroAccounting, drafts: list[Invoice], mapping: InvoiceSettings) -> None:
    """Set each draft's due date from its contact's sales terms (read once per contact)."""
    terms = contacts_terms(xero, [d.contact.contact_id for d in drafts], soon=_contacts_next())
    for draft in drafts:
        day, kind = terms.get(draft.contact.contact_id, (None, None))
        draft.due_date = due_date(
            issued=draft.date, day=day, kind=kind, default_days=mapping.default_due_days
        )


def _job_key(job: Job, draft: Invoice) -> str:
    """The job's Idempotency-Key: tied to its content, so a corrected job is a new request."""
    content = hashlib.sha256(
        repr(
            [
                (lb.item_code, lb.quantity, lb.unit_amount, lb.tax_type, lb.account_code)
                for lb in draft.line_items
            ]
            + [str(draft.line_amount_types)]
        ).encode()
    ).hexdigest()[:16]
    return f"hub-job-{job.number}-{content}"


def _recorded(job: Job, made) -> Outcome:
    """Link the invoice Xero made and move the job to invoiced."""
    record_for_link(
        type=Record.Type.INVOICE,
        system="xero",
        external_id=made.invoice_id,
        label=made.invoice_number,
    )
    job_finance_update(
        job=job,
        invoice_number=made.invoice_number,
        invoice_status=code(made.status),
        amount_invoiced=made.total,
        amount_paid=made.amount_paid or 0,
    )
    return Outcome(
        f"Draft invoice {made.invoice_number} for {made.total} created in Xero.",
        result={"invoice_id": made.invoice_id, "number": made.invoice_number},
    )


def _refused(job: Job, made) -> Invalid:
    """Xero's per-invoice refusal as a review item naming the problem and the fix."""
    messages = "; ".join(e.message for e in made.validation_errors or [])
    code, fix = refusal(messages)
    bad_codes = sorted(set(BAD_ITEM_CODE.findall(messages)))
    return Invalid(
        f"Xero would not take the invoice for job {job.number}: {messages}",
        system="xero",
        code=code,
        fix=fix,
        details={"job": job.number, "bad_item_codes": bad_codes} if bad_codes else {},
    )


def _already_made(
    xero: XeroAccounting, drafts: list[tuple[HandoffRun, Job, Invoice]], results: dict
) -> list[tuple[HandoffRun, Job, Invoice]]:
    """Record the invoices Xero already made for these jobs; return the drafts still to send.

    A run whose last request to create its invoice got no recorded answer (its worker was
    killed, the call timed out, Xero failed) may have its invoice in Xero already, whatever
    batch it was in and however often staff retried since: it is looked up by its
    reference (the job's number) first. One not found whose request may still be settling
    at Xero waits a little instead of being sent again.
    """
    sent = [d for d in drafts if d[0].effect_sent_at]
    if not sent:
        return drafts
    found = {
        invoice.reference: invoice
        for invoice in xero.invoices_by_reference([job.number for _, job, _ in sent])
        if code(invoice.status) not in ("VOIDED", "DELETED")
    }
    settle = timedelta(seconds=settings.XERO_SETTLE_SECONDS)
    remaining = []
    for run, job, draft in drafts:
        if job.number in found:
            results[run.pk] = _recorded(job, found[job.number])
        elif run.effect_sent_at and run.effect_sent_at + settle > timezone.now():
            wait = (run.effect_sent_at + settle - timezone.now()).total_seconds()
            results[run.pk] = Waiting(
                f"The last request for job {job.number}'s invoice got no answer; the hub "
                "waits until Xero has surely finished with it, then looks again.",
                system="xero",
                retry_after=wait,
            )
        else:
            remaining.append((run, job, draft))
    return remaining


def batch(runs: list[HandoffRun]) -> list[Outcome | Exception]:
    """Invoice many finished jobs with as few Xero calls as can be: 50 invoices a request.

    Each job's problems (a missing contact detail, an unknown item code) stay its own:
    Xero answers per invoice under summarizeErrors=false, and the answers are mapped back.
    Whether Xero may already have a job's invoice is decided per job (`_already_made`).
    """
    xero, mapping = XeroAccounting.connected(), InvoiceSettings.current()
    results: dict[int, Outcome | Exception] = {}
    drafts: list[tuple[HandoffRun, Job, Invoice]] = []
    for run in runs:
        try:
            job = Job.objects.select_related("customer").get(number=run.record_ref)
            run.record_label = f"{job.number} {job.title}"
            HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
            if job.invoice_number:
                results[run.pk] = Outcome(
                    f"Job {job.number} already has invoice {job.invoice_number}.", skipped=True
                )
                continue
            drafts.append((run, job, _draft(xero, job, run, mapping)))
        except Exception as error:  # this job's problem (or a bug) is its own review item
            results[run.pk] = error
    drafts = _already_made(xero, drafts, results)
    if drafts:
        _due_dates(xero, [draft for _, _, draft in drafts], mapping)
    for start in range(0, len(drafts), BATCH_SIZE):
        chunk = drafts[start : start + BATCH_SIZE]
        keys = sorted(_job_key(job, draft) for _, job, draft in chunk)
        # Deterministic: a retry of the same request replays Xero's first answer.
        key = (
            keys[0]
            if len(keys) == 1
            else "hub-batch-" + hashlib.sha256("|".join(keys).encode()).hexdigest()[:40]
        )
        # Written before the request: if no answer is recorded, the next attempt looks first.
        chunk_runs = HandoffRun.objects.filter(pk__in=[run.pk for run, _, _ in chunk])
        chunk_runs.update(effect_sent_at=timezone.now())
        made = xero.invoices_create([draft for _, _, draft in chunk], idempotency_key=key)
        for (run, job, _), invoice in zip(chunk, made, strict=True):
            if invoice.has_errors:  # refused: Xero made nothing for this job
                HandoffRun.objects.filter(pk=run.pk).update(effect_sent_at=None)
                results[run.pk] = _refused(job, invoice)
            else:
                results[run.pk] = _recorded(job, invoice)
    return [results[run.pk] for run in runs]


def perform(run: HandoffRun) -> Outcome:
    """Create the job's draft invoice (once: the Idempotency-Key is the job's)."""
    (result,) = batch([run])
    if isinstance(result, Exception):
        raise result
    return result


handoff_register(
    Handoff(
        name="job_done_to_invoice",
        label="Finished job to a draft invoice",
        listens_to=frozenset({"job.completed"}),
        queue="xero",
        record_type="job",
        key=key,
        perform=perform,
        batch=batch,
        batch_size=BATCH_SIZE,
        gather_seconds=settings.XERO_INVOICE_GATHER_SECONDS,
    )
)
