"""The check that the systems agree (nightly, and on demand): what events missed, found.

It compares every linked record across the systems with the ownership engine (the same
decisions an event's run makes: carry, restore, flag), and looks for what no event told
of: customers in one system that are not linked yet, jobs done but never invoiced, open
invoices with no job, deals lost or deleted while their job goes on. Each difference is
fixed by its rule or becomes one review item; a second check opens nothing new (items are
keyed by their root cause, and one a person dismissed stays dismissed).

A dry run reads and compares but changes nothing and opens no item. Every check is a
ReconcileRun with a finding per difference: the drift report (handoffs/views.py) shows
them. Vendor limits are waited for, never counted as failures; a system that cannot be
read leaves the check unfinished, which is one item with "Run the check again".
"""

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from connectors.base import BusinessEvent, InvoiceMade
from connectors.errors import ConnectorError, Waiting
from connectors.limits import patience
from connectors.registry import crm, finance, operations, organisation_of, systems
from handoffs.flows.job_done_to_invoice import invoices_record
from handoffs.models import HandoffRun, ReconcileFinding, ReconcileRun
from handoffs.registry import handoff_get
from handoffs.runs import handoff_run_replay, handoff_run_start
from integration_hub import labels
from ownership.engine import Convergence, RecordBusy, records_converge
from ownership.matching import customers_first_seen
from ownership.models import Link, Proposal, Record
from review_queue.models import ReviewItem
from review_queue.services import review_item_open, review_item_settle

logger = logging.getLogger(__name__)
PATIENCE_SECONDS = 30  # how long one call may wait for a place within the vendors' limits
CHUNK = 10000  # records compared per engine call: one read and one write per system, batched
UNFINISHED = "reconcile:unfinished"
Kind = ReconcileFinding.Kind
T = TypeVar("T")


def patiently(read: Callable[[], T], *, deadline: float) -> T:
    """Call `read`, waiting out rate limits (waiting is not failing) until the deadline (a
    time.monotonic() value)."""
    while True:
        try:
            return read()
        except Waiting as waiting:
            pause = min(waiting.retry_after or 1.0, 60.0)
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)


class CheckBusy(Exception):
    """A check is running already: one at a time."""


class Check:
    """One check under way: its run, its counts, and whether it may change anything."""

    def __init__(self, run: ReconcileRun, progress: Callable[[str, int], None] | None):
        self.run, self.dry_run = run, run.dry_run
        self.progress = progress or (lambda step, count: None)
        self.deadline = time.monotonic() + settings.RECONCILE_MAX_SECONDS
        self.findings: list[ReconcileFinding] = []

    def found(self, kind: str, *, record: Record | None = None, item=None, **said) -> None:
        """Note a finding (written with the others by `save`)."""
        self.findings.append(
            ReconcileFinding(
                run=self.run,
                kind=kind,
                record=record,
                record_type=record.type if record else said.pop("record_type", ""),
                record_label=record.label if record else said.pop("record_label", ""),
                review_item=item,
                **said,
            )
        )

    def save(self) -> None:
        """Write the run's counts and the findings noted since the last save."""
        ReconcileFinding.objects.bulk_create(self.findings, batch_size=1000)
        self.findings = []
        self.run.save()

    def patiently(self, read: Callable[[], T]) -> T:
        return patiently(read, deadline=self.deadline)

    def item(self, *, root: str, **fields) -> ReviewItem | None:
        """Open the item for this root cause (not in a dry run, nor one a person dismissed)."""
        if self.dry_run:
            return None
        if ReviewItem.objects.filter(root_key=root, status=ReviewItem.Status.DISMISSED).exists():
            return None
        return review_item_open(root_key=root, kind=ReviewItem.Kind.FOUND, **fields)


def reconcile(
    *,
    since: datetime | None = None,
    dry_run: bool = False,
    asked_by: str = "",
    progress: Callable[[str, int], None] | None = None,
) -> ReconcileRun:
    """Run one check (see the module's docstring) and return its run with the counts.

    `since` narrows what is listed from the systems (customers and invoices changed after
    it); linked records are all compared whatever it says. Without it: since the start of
    the last finished check, or everything for the first.
    """
    unfinished_close()
    running = ReconcileRun.objects.filter(state=ReconcileRun.State.RUNNING).first()
    if running is not None:
        raise CheckBusy(f"A check is running already (started {running.started_at:%H:%M}).")
    if since is None:
        last = ReconcileRun.objects.filter(state=ReconcileRun.State.DONE, dry_run=False).first()
        since = last.started_at - timedelta(hours=1) if last else None
    run = ReconcileRun.objects.create(dry_run=dry_run, since=since, asked_by=asked_by)
    check = Check(run, progress)
    problems = []
    for step in (_customers_unlinked, _records_compared, _jobs_not_invoiced, _invoices_orphaned):
        try:
            with patience(PATIENCE_SECONDS):  # waiting for a vendor's place beats reading again
                step(check)
        except ConnectorError as error:
            problems.append(f"{step.__doc__.splitlines()[0]} {error.message}")
        except Exception as error:
            logger.exception("The check that the systems agree failed")
            problems.append(f"{step.__doc__.splitlines()[0]} The hub failed: {error!r}")
            break
    run.finished_at = timezone.now()
    run.problem = "\n".join(problems)
    run.state = ReconcileRun.State.FAILED if problems else ReconcileRun.State.DONE
    check.save()
    if problems:
        _unfinished_item(run)
    elif not dry_run:
        review_item_settle(
            root_key=UNFINISHED, outcome=f"The check of {run.started_at:%c} finished."
        )
    return run


def _chunks(items: list[T], size: int = CHUNK) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Customers: linked at first sight; the ones no event told of are found here --------------


def _customers_unlinked(check: Check) -> None:
    """Matching the customers no event told of:"""
    holders = {name: each for name, each in systems().items() if hasattr(each, "customers_changed")}
    seen_records: set[int] = set()
    for name, directory, within in _reaches(holders):
        seen = check.patiently(lambda d=directory: d.customers_changed(check.run.since))
        for chunk in _chunks(seen):
            before = _link_counts(name, [c.external_id for c in chunk])
            waiting = _left_to_staff(name, [c.external_id for c in chunk])
            new = [
                c
                for c in chunk
                if before.get(c.external_id, 0) < len(holders) and c.external_id not in waiting
            ]
            if check.dry_run:  # matching writes links: a dry run only counts the loners
                alone = [c for c in new if before.get(c.external_id, 0) <= 1]
                for details in alone:
                    check.found(
                        Kind.UNLINKED, system=name, record_type="customer",
                        record_label=details.name, detail=f"only in {directory.label}",
                    )  # fmt: skip
                check.run.unlinked += len(alone)
                continue
            sightings = check.patiently(lambda n=new, w=within: _sightings(n, set(holders), w))
            for details, sighting in zip(new, sightings, strict=True):
                record = sighting.record
                if record.pk in seen_records:
                    continue  # one finding per customer, whichever system showed it first
                seen_records.add(record.pk)
                _sighting_counted(check, record, before.get(details.external_id, 0), sighting)
        check.progress("customers", len(seen))


def _reaches(holders: dict) -> list[tuple[str, object, str]]:
    """Each system holding customers, once per organisation (Xero tenant) when it has
    several: (its name, its connector there, the organisation)."""
    reached: list[tuple[str, object, str]] = []
    for name, directory in holders.items():
        organisations = list(directory.organisations()) if hasattr(directory, "within") else []
        reached += [(name, directory.within(o), o) for o in organisations] or [
            (name, directory, "")
        ]
    return reached


def _sightings(new: list, holders: set[str], within: str = "") -> list:
    """Match these customers (seen in the organisation `within`, or where they are looked
    for); raise what a system said instead (a limit to wait out: the chunk is matched
    again, and what it linked already stays linked)."""
    sightings = customers_first_seen(many=new, only=holders, within=within) if new else []
    for sighting in sightings:
        if sighting.missed:
            raise sighting.missed[0]
    return sightings


def _sighting_counted(check: Check, record: Record, links_before: int, sighting) -> None:
    """A customer the check matched: linked now (a finding), or still in one system only."""
    said = "; ".join(sighting.said)
    links = list(record.links.values_list("system", flat=True))
    if len(links) > max(links_before, 1):
        check.found(Kind.LINKED, record=record, system=links[0], detail=said[:255])
    elif len(links) == 1:
        check.run.unlinked += 1
        only = systems()[links[0]].label
        detail = f"only in {only}" + (f"; {said}" if said else "")
        check.found(Kind.UNLINKED, record=record, system=links[0], detail=detail[:255])


def _left_to_staff(system: str, ids: list[str]) -> set[str]:
    """Those of these customers the first match left to staff (a proposal open, or one they
    left unlinked): the check asks nothing about them, the proposals list does."""
    return set(
        Proposal.objects.filter(
            system=system,
            external_id__in=ids,
            state__in=(Proposal.State.OPEN, Proposal.State.SKIPPED),
        ).values_list("external_id", flat=True)
    )


def _link_counts(system: str, ids: list[str]) -> dict[str, int]:
    """For these customer ids in `system`: in how many systems their record is linked."""
    seen = dict(
        Link.objects.filter(
            record_type=Record.Type.CUSTOMER, system=system, external_id__in=ids
        ).values_list("record_id", "external_id")
    )
    links = (
        Link.objects.filter(record_id__in=seen)
        .values("record_id")
        .annotate(count=Count("pk"))
        .values_list("record_id", "count")
    )
    return {seen[record_id]: count for record_id, count in links}


# Linked records: the engine's decisions, for every one ------------------------------------


def _records_compared(check: Check) -> None:
    """Comparing the linked records:"""
    ids = list(
        Record.objects.annotate(linked=Count("links"))
        .filter(linked__gte=2)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for chunk_ids in _chunks(ids):
        records = list(Record.objects.filter(pk__in=chunk_ids).order_by("pk"))
        outcomes = _converged(check, records)
        deals = []
        for record in records:
            outcome = outcomes[record]
            check.run.records += 1
            if isinstance(outcome, RecordBusy):
                continue  # another run is converging it right now
            if isinstance(outcome, Exception):
                _retry(check, record, outcome)
                continue
            _counted(check, outcome)
            if record.type == Record.Type.DEAL:
                deals.append(record)
        _deals_lost(check, deals)
        check.save()
        check.progress("records", len(records))


def _converged(check: Check, records: list[Record]) -> dict[Record, object]:
    """Converge these records; a write that met a vendor's limit is waited out and its
    records converged again (they are read again: only what still differs is written)."""

    def converge(some: list[Record]) -> dict[Record, object]:
        answers = check.patiently(lambda: records_converge(records=some, dry_run=check.dry_run))
        return dict(zip(some, answers, strict=True))

    outcomes = converge(records)
    while True:
        limited = {
            r: o
            for r, o in outcomes.items()
            if isinstance(o, Waiting) and not isinstance(o, RecordBusy)
        }
        pause = max((o.retry_after or 1.0 for o in limited.values()), default=0.0)
        if not limited or time.monotonic() + pause > check.deadline:
            return outcomes  # what is left is retried by its own run
        time.sleep(min(pause, 60.0))
        outcomes |= converge(list(limited))


def _retry(check: Check, record: Record, error: Exception) -> None:
    """A record that could not be compared now: its own run of the engine retries it."""
    from handoffs.flows.shared_fields import records_look_again

    check.run.retried += 1
    check.found(Kind.RETRIED, record=record, detail=str(error)[:255])
    if not check.dry_run:
        records_look_again(records=[record], change="the nightly check")


def _counted(check: Check, done: Convergence) -> None:
    record, run = done.record, check.run
    run.fields += done.compared
    for kind, writes in ((Kind.CARRIED, done.carried), (Kind.RESTORED, done.restored)):
        for system, name in writes:
            check.found(kind, record=record, system=system, field=name)
    run.carried += len(done.carried)
    run.restored += len(done.restored)
    for name in done.flagged:
        item = ReviewItem.objects.filter(
            root_key=f"disagreement:{record.pk}:{name}", status=ReviewItem.Status.OPEN
        ).first()
        check.found(Kind.FLAGGED, record=record, field=name, item=item)
    run.flagged += len(done.flagged)
    for system in done.missing:
        label = systems()[system].label
        item = check.item(
            root=f"missing:{record.pk}:{system}",
            system=system,
            title=f"{label.capitalize()} no longer has {record}",
            reason=f"The hub links {record} to {label}, which no longer has it (deleted or "
            "merged there). Its fields are no longer kept in line there.",
            action=f"If it was deleted by mistake, restore it in {label}; otherwise dismiss "
            "this item.",
            record_type=record.type,
            record_label=record.label,
            details={"check": Kind.MISSING, "record": record.pk},
        )
        check.run.missed += 1
        check.found(Kind.MISSING, record=record, system=system, item=item)


def _deals_lost(check: Check, deals: list[Record]) -> None:
    """Deals lost in the CRM while their job is still to be done: one item each."""
    links = {
        (link.record_id, link.system): link.external_id
        for link in Link.objects.filter(record__in=deals)
    }
    the_crm, register = crm(), operations()
    pairs = {
        record: (links[(record.pk, the_crm.system)], links[(record.pk, register.system)])
        for record in deals
        if (record.pk, the_crm.system) in links and (record.pk, register.system) in links
    }
    if not pairs:
        return
    lost = check.patiently(lambda: the_crm.deals_lost([deal for deal, _ in pairs.values()]))
    states = register.jobs_by_state([job for _, job in pairs.values()])
    for record, (deal, job) in pairs.items():
        if deal not in lost or states.get(job) != "active":
            continue
        item = check.item(
            root=f"deal-lost:{deal}",
            system=the_crm.system,
            title=f"Deal lost but job {job} goes on: {record.label}",
            reason=f"{the_crm.label.capitalize()} shows the deal as '{lost[deal]}', yet job "
            f"{job} is still to be done.",
            action=f"Cancel job {job} in the register if the work is off; if the deal was "
            f"marked lost by mistake, move it back in {the_crm.label}. Then dismiss this item.",
            record_type="deal",
            record_ref=deal,
            record_label=record.label,
            details={"check": Kind.DEAL_LOST, "record": record.pk, "job": job},
        )
        check.run.missed += 1
        check.found(Kind.DEAL_LOST, record=record, system=the_crm.system, item=item, detail=job)


# Jobs and invoices -------------------------------------------------------------------------


def _jobs_not_invoiced(check: Check) -> None:
    """Looking for jobs done but not invoiced:"""
    numbers = operations().jobs_to_invoice()
    where: dict[str, str] = {}
    made: dict[str, InvoiceMade] = {}
    for organisation, money in finance_organisations():  # a job's invoice may be in any of them
        found = check.patiently(lambda m=money: m.invoices_by_reference(numbers) if numbers else {})
        for number, invoice in found.items():
            made.setdefault(number, invoice)
            where.setdefault(number, organisation)
    done = jobs_invoiced(numbers, made, dry_run=check.dry_run, where=where)
    for number, detail in done.items():
        check.run.missed += 1
        check.found(
            Kind.NOT_INVOICED, record_type="job", record_label=number, detail=detail
        )  # fmt: skip
    check.progress("jobs", len(numbers))


def finance_organisations() -> list[tuple[str, object]]:
    """Each organisation of the finance system (Xero tenants) and its connector; the
    default alone when it says of none (its refusal is the check's)."""
    money = finance()
    return [(o, money.within(o)) for o in money.organisations()] or [("", money)]


def jobs_invoiced(
    numbers: list[str],
    made: dict[str, InvoiceMade],
    *,
    dry_run: bool = False,
    where: dict[str, str] | None = None,
) -> dict[str, str]:
    """See that each of these finished jobs gets its one invoice; say what was done for each
    one not in hand already (number → what).

    A job the finance system has an invoice for already (`made`, by reference: one made
    while the hub was stopped, or by hand before the hub was set up) is linked to it; the
    others get their invoicing run, started or run again. A run still in hand (waiting for
    a worker, retrying, on a review item) is left to finish, and one a person dismissed is
    left alone. `where`: the organisation each invoice in `made` is in (else the default).
    """
    register, handoff = operations(), handoff_get("job_done_to_invoice")
    runs = {
        run.record_ref: run
        for run in HandoffRun.objects.filter(handoff=handoff.name, record_ref__in=numbers)
    }
    finished = (HandoffRun.State.DONE, HandoffRun.State.SKIPPED)
    todo = [n for n in numbers if n not in runs or runs[n].state in finished]
    found = [n for n in todo if n in made]
    if found and not dry_run:
        where = where or {}
        default = "" if all(n in where for n in found) else organisation_of(finance())
        for organisation in {where.get(n, default) for n in found}:
            pairs = [
                (register.job_read(n), made[n])
                for n in found
                if where.get(n, default) == organisation
            ]
            invoices_record(pairs, organisation=organisation)
    said = {}
    for number in todo:
        run = runs.get(number)
        if number in made:
            said[number] = f"invoice {made[number].number} found in {finance().label}, linked"
        elif dry_run:
            said[number] = "would be invoiced"
        elif run is None:
            happened = BusinessEvent("job.completed", register.system, number, {})
            handoff_run_start(handoff=handoff, happened=happened)
            said[number] = "invoicing started"
        else:
            handoff_run_replay(run=run)
            said[number] = "invoicing run again"
    return said


def _invoices_orphaned(check: Check) -> None:
    """Looking for open invoices with no job:"""
    for _, money in finance_organisations():
        _invoices_orphaned_in(check, money)


def _invoices_orphaned_in(check: Check, money) -> None:
    """The open invoices with no job in one organisation."""
    invoices = check.patiently(lambda: money.invoices_changed(check.run.since))
    open_ones = [i for i in invoices if i.status not in ("paid", "voided", "deleted")]
    linked = set(
        Link.objects.filter(
            record_type=Record.Type.INVOICE,
            system=money.system,
            external_id__in=[i.invoice_id for i in open_ones],
        ).values_list("external_id", flat=True)
    )
    references = [i.reference for i in open_ones if i.reference]
    jobs = operations().jobs_by_state(references) if references else {}
    for invoice in open_ones:
        if invoice.invoice_id in linked or invoice.reference in jobs:
            continue  # a job's invoice (one not linked yet is found by the job's invoicing)
        check.run.missed += 1
        item = check.item(**_orphan_item(invoice, money))
        check.found(
            Kind.NO_JOB,
            system=money.system,
            record_type="invoice",
            record_label=f"{invoice.number} {invoice.customer_name}".strip(),
            detail=f"{_paid(invoice)}, total {invoice.total}",
            item=item,
        )
    check.progress("invoices", len(invoices))


def _paid(invoice: InvoiceMade) -> str:
    """The invoice's payment status in words ("awaiting payment")."""
    return labels.label("payment_status", invoice.status).lower()


def _orphan_item(invoice: InvoiceMade, money) -> dict:
    return {
        "root": f"invoice-without-job:{invoice.invoice_id}",
        "system": money.system,
        "title": f"Invoice {invoice.number} has no job",
        "reason": f"{money.label.capitalize()} has invoice {invoice.number} for "
        f"{invoice.customer_name or 'a customer'} ({_paid(invoice)}, total {invoice.total}), "
        "but no job in the register names it"
        + (
            f" (its reference '{invoice.reference}' is no job's number)."
            if invoice.reference
            else "."
        ),
        "action": "If it belongs to a job, put the job's number in the invoice's reference "
        f"in {money.label}; if it is not job work (a deposit, a product sale), dismiss this "
        "item: it is not raised again.",
        "record_type": "invoice",
        "record_ref": invoice.invoice_id,
        "record_label": invoice.number,
        "details": {"check": Kind.NO_JOB, "invoice": invoice.number},
    }


# A check that did not finish ---------------------------------------------------------------


def unfinished_close() -> int:
    """Mark checks that have run longer than they may (their worker died) as failed, each
    with the one "did not finish" item; return how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.RECONCILE_MAX_SECONDS * 2)
    stale = list(
        ReconcileRun.objects.filter(state=ReconcileRun.State.RUNNING, started_at__lt=cutoff)
    )
    for run in stale:
        run.state, run.finished_at = ReconcileRun.State.FAILED, timezone.now()
        run.problem = "It stopped before the end (its worker stopped or was restarted)."
        run.save()
        _unfinished_item(run)
    return len(stale)


def _unfinished_item(run: ReconcileRun) -> ReviewItem:
    return review_item_open(
        root_key=UNFINISHED,
        kind=ReviewItem.Kind.FOUND,
        system="hub",
        title="The check that the systems agree did not finish",
        reason=f"The check started {run.started_at:%d %b %Y %H:%M} did not finish: "
        f"{run.problem} Differences it would have found may be unseen.",
        action="Fix what the reason names (a connection, a system that is down), then press "
        "'Run the check again'.",
        details={"check": "unfinished"},
    )
