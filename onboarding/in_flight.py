"""The work already under way when the hub is set up, made known to it.

- Won deals with no job yet: each gets the run a "deal won" event would have started.
- Jobs finished and not invoiced: linked to the invoice the finance system has for them
  already (by its reference), or invoiced (handoffs/reconcile.py `jobs_invoiced`).
- Unpaid and part-paid invoices: linked to their job (by reference) and carried to the
  CRM and the register by the ownership engine; one with no job is known as it is, so the
  nightly check does not raise it as "an invoice with no job".

Every connected organisation of the finance system (Xero tenants) is read; a job's invoice
may be in any of them, and each invoice is linked in its own.

Everything here is keyed (runs by their business key, records by their ids): a second run
starts and links nothing twice.
"""

from connectors.base import BusinessEvent
from connectors.registry import crm, operations
from handoffs.flows.job_done_to_invoice import invoices_record
from handoffs.reconcile import finance_organisations, jobs_invoiced
from handoffs.registry import handoff_get
from handoffs.runs import handoff_run_start
from ownership.models import Link, Record
from ownership.services import record_for_link

CHUNK = 100
CLOSED = ("paid", "voided", "deleted")


def work_in_flight_import() -> dict[str, int]:
    """Import the work under way, in every organisation of the finance system; return how
    many of each kind the hub took in."""
    said = {"deals": _deals_won()}
    numbers = operations().jobs_to_invoice()
    wanted, made, where = set(numbers), {}, {}
    open_ones: list[tuple[str, object, list]] = []
    for organisation, money in finance_organisations():
        invoices = [i for i in money.invoices_changed(None) if i.status not in CLOSED[1:]]
        for invoice in invoices:
            if invoice.reference in wanted and invoice.reference not in made:
                made[invoice.reference], where[invoice.reference] = invoice, organisation
        open_ones.append((organisation, money, invoices))
    done = jobs_invoiced(numbers, made, where=where)
    said["jobs_linked"] = sum(1 for n in done if n in made)
    said["jobs_invoiced"] = len(done) - said["jobs_linked"]
    said |= {"invoices_with_job": 0, "invoices_alone": 0}
    for organisation, money, invoices in open_ones:
        unpaid = [i for i in invoices if i.status != "paid" and i.reference not in made]
        for kind, count in _invoices_open(unpaid, money, organisation).items():
            said[kind] += count
    return said


def _deals_won() -> int:
    """Start the job of each won deal the register has no job for."""
    the_crm, register, handoff = crm(), operations(), handoff_get("deal_won_to_job")
    started = 0
    for deal_id, stage in the_crm.deals_won_unworked().items():
        if register.job_for_origin(the_crm.system, deal_id):
            continue
        happened = BusinessEvent("deal.stage_changed", the_crm.system, deal_id, {"stage": stage})
        started += handoff_run_start(handoff=handoff, happened=happened)[1]
    return started


def _invoices_open(invoices: list, money, organisation: str) -> dict[str, int]:
    """Link each open invoice of one organisation to its job, or know it by itself when it
    has none."""
    register = operations()
    known = set(
        Link.objects.filter(record_type=Record.Type.INVOICE, system=money.system).values_list(
            "external_id", flat=True
        )
    )
    new = [i for i in invoices if i.invoice_id not in known]
    jobs = register.jobs_by_state([i.reference for i in new if i.reference])
    with_job = [i for i in new if i.reference in jobs]
    for start in range(0, len(with_job), CHUNK):
        chunk = with_job[start : start + CHUNK]
        pairs = [(register.job_read(i.reference), i) for i in chunk]
        invoices_record(pairs, organisation=organisation)
    alone = [i for i in new if i.reference not in jobs]
    for invoice in alone:
        record_for_link(
            type=Record.Type.INVOICE,
            system=money.system,
            external_id=invoice.invoice_id,
            label=invoice.number,
            reason="open when the hub was set up",
            organisation=organisation,
        )
    return {"invoices_with_job": len(with_job), "invoices_alone": len(alone)}
