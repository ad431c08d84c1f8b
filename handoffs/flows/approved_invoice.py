"""A job whose lines change after its invoice was approved: the finance system edits no
approved invoice, so the difference is one review item for the job, never a silent edit.

A person chooses: credit the invoice and raise a new draft from the job's lines (the
`credit_and_redraft` handoff, once per invoice), or keep the invoice as it is (the
difference, for those figures, is then no longer flagged). A draft that differs is the
figures item (invoice_figures.py): a draft can still be corrected where it is.
"""

from decimal import Decimal

from connectors.base import BusinessEvent, CreditMade, InvoiceMade, JobFacts
from connectors.registry import finance, in_organisation, operations
from handoffs.flows.invoice_figures import figures_compare
from handoffs.flows.job_done_to_invoice import (
    CANCELLED,
    credited_invoices,
    draft_key,
    figures_said,
    finance_customers,
    invoice_draft,
    invoices_record,
    jobs_tracking,
    refusal_count,
)
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from integration_hub import labels
from ownership.models import Link
from ownership.services import record_unlink
from review_queue.models import ReviewItem
from review_queue.services import review_item_open, review_item_settle

# The item's actions (handoffs/review_actions/approved_invoice.py).
KEEP = "keep_invoice"
CREDIT = "credit_and_redraft"


def approved_root(number: str) -> str:
    """The one item per job about its approved invoice."""
    return f"approved-changed:job:{number}"


def invoice_of(number: str) -> str:
    """The finance system's id of the invoice the job follows now ("" when none)."""
    register, money = operations(), finance()
    record = Link.objects.filter(
        record_type="invoice", system=register.system, external_id=number
    ).values("record_id")
    found = Link.objects.filter(record_id__in=record, system=money.system)
    return found.values_list("external_id", flat=True).first() or ""


def finance_of(invoice_id: str):
    """The finance connector reaching the organisation that holds this invoice, and that
    organisation ("" for a system of one account)."""
    money = finance()
    link = Link.objects.filter(
        record_type="invoice", system=money.system, external_id=invoice_id
    ).first()
    organisation = link.organisation if link else ""
    return in_organisation(money, organisation), organisation


def _kept(job: JobFacts, made: InvoiceMade) -> bool:
    """Whether a person chose to keep this invoice over the lines as they are now."""
    return ReviewItem.objects.filter(
        root_key=approved_root(job.number),
        resolution=KEEP,
        details__invoice_id=made.invoice_id,
        details__now=f"{job.figures.total:.2f}",
    ).exists()


def _terms(job: JobFacts) -> str:
    return "including GST" if job.prices_include_gst else "excluding GST"


def approved_item_open(job: JobFacts, made: InvoiceMade) -> ReviewItem:
    """Open (or bring up to date) the job's one item about its approved invoice."""
    money = finance()
    status = labels.label("payment_status", made.status).lower()
    cur = made.currency or job.currency
    lines = [
        f"{line.quantity.normalize():f} x {line.description} at {line.unit_price:.2f}"
        for line in job.lines
    ]
    return review_item_open(
        root_key=approved_root(job.number),
        kind=ReviewItem.Kind.APPROVED_CHANGED,
        system=money.system,
        title=f"Job changed after its invoice was approved: {job.label}",
        reason=f"Job {job.number}'s lines changed after invoice {made.number} was approved in "
        f"{money.label} ({status}). The lines now come to {cur} {job.figures.total:,.2f} "
        f"(GST {job.figures.tax:,.2f}); the approved invoice is for {cur} {made.total:,.2f} "
        f"({cur} {made.amount_due:,.2f} still due). {money.label} does not let an approved "
        "invoice be edited, so nothing was changed there.",
        action="Choose 'Credit the invoice and raise a new draft': the hub credits invoice "
        f"{made.number} in full with a credit note in {money.label} and drafts a new invoice "
        "from the job's lines, for you to check and approve there. Or choose 'Keep the "
        "invoice as it is' if the invoice is right as sent: this difference is then no "
        "longer flagged.",
        record_type="job",
        record_ref=job.number,
        record_label=job.label,
        details={
            "job": job.number,
            "invoice": made.number,
            "invoice_id": made.invoice_id,
            "status": made.status,
            "currency": cur,
            "invoiced": f"{made.total:.2f}",
            "due": f"{made.amount_due:.2f}",
            "now": f"{job.figures.total:.2f}",
            "lines": lines,
        },
    )


def check(run: HandoffRun) -> Outcome:
    """Compare a changed job with the invoice it follows: the same, a draft to correct, or
    an approved invoice (one item, unless a person chose to keep it)."""
    job = operations().job_read(run.record_ref)
    invoice_id = invoice_of(job.number)
    if not invoice_id or job.invoice_status in CANCELLED:
        return Outcome(f"Job {job.number} has no invoice to compare with.", skipped=True)
    made = finance_of(invoice_id)[0].invoice_read(invoice_id)
    if made.figures == job.figures:
        review_item_settle(
            root_key=approved_root(job.number),
            outcome=f"The job's lines come to what invoice {made.number} says again.",
        )
        return Outcome(f"Invoice {made.number} still matches job {job.number}.", skipped=True)
    if not made.approved:
        item = figures_compare(job, made)
        return Outcome(f"Draft {made.number} differs from job {job.number}: see item {item.pk}.")
    if _kept(job, made):
        return Outcome(
            f"A person chose to keep invoice {made.number} as it is for these lines.",
            skipped=True,
        )
    item = approved_item_open(job, made)
    return Outcome(
        f"Job {job.number} changed after invoice {made.number} was approved: see review item "
        f"{item.pk}."
    )


def _credited_said(credit: CreditMade, number: str) -> str:
    said = (
        f"Credit note {credit.number} for {credit.currency} {credit.total:,.2f} credits "
        f"invoice {number}"
    )
    if credit.allocated:
        said += f" ({credit.currency} {credit.allocated:,.2f} allocated to it)"
    if credit.remaining > Decimal("0"):
        said += (
            f"; {credit.currency} {credit.remaining:,.2f} is left as the customer's credit "
            "(refund it or use it on the new invoice in Xero)"
        )
    return said + "."


def credit_and_redraft(run: HandoffRun) -> Outcome:
    """Credit the approved invoice once, then draft the job's new invoice once.

    1. The job and its deal stop following the old invoice (its later changes, a credit
       making it "paid", no longer reach them).
    2. The credit note, found by its reference first (connectors/xero/credits.py).
    3. The new draft, found by the job's number first (any invoice but the old one), else
       made with a key tied to the old invoice; then linked to the job and the deal.
    """
    register = operations()
    invoice_id, old = run.payload["invoice_id"], run.payload["invoice"]
    job = register.job_read(run.record_ref)
    money, organisation = finance_of(invoice_id)
    old_record = Link.objects.filter(
        record_type="invoice", system=money.system, external_id=invoice_id
    ).first()
    if old_record is not None:
        record_unlink(record=old_record.record, keep=money.system)
    credit = money.invoice_credit(invoice_id)
    results: dict = {}
    found = money.invoices_by_reference([job.number], besides=credited_invoices([job.number]))
    if job.number in found:
        made = found[job.number]
    else:
        tracking = jobs_tracking([(run, job)], results, money)
        customers = finance_customers([(run, job)], results, money, organisation)
        if run.pk in results:
            raise results[run.pk]
        draft = invoice_draft(job, customers[job.number], tracking[job.number])
        key = draft_key(draft, replaces=old, refusals=run.payload.get("refusals", 0))
        (made,) = money.invoices_create([draft], idempotency_key=key, read_ahead=[])
        if made.refused:
            refusal_count(run)
            raise made.refused
    outcome = invoices_record([(job, made)], organisation=organisation)[job.number]
    outcome = figures_said(job, made, outcome)
    return Outcome(
        f"{_credited_said(credit, old)} {outcome.summary}",
        result={**outcome.result, "credit_note": credit.number, "credited": old},
    )


def check_key(happened: BusinessEvent) -> str:
    """One check per change of the job's lines."""
    return f"operations:job:{happened.object_id}:lines:{happened.data.get('event_id')}"


def credit_key(happened: BusinessEvent) -> str:
    """One credit, and one new draft, per approved invoice, ever."""
    return f"operations:job:{happened.object_id}:credit:{happened.data['invoice_id']}"


handoff_register(
    Handoff(
        name="approved_invoice",
        label=labels.HANDOFFS["approved_invoice"],
        listens_to=frozenset({"job.promise_changed", "job.lines_recoded", "job.lines_taxed"}),
        queue="xero",
        record_type="job",
        key=check_key,
        perform=check,
    )
)
handoff_register(
    Handoff(
        name=CREDIT,
        label=labels.HANDOFFS[CREDIT],
        listens_to=frozenset({"job.credit_requested"}),
        queue="xero",
        record_type="job",
        key=credit_key,
        perform=credit_and_redraft,
    )
)
