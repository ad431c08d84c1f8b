"""Job finished in operations → one DRAFT invoice in the finance system, per job; one more
each time the finance system voids or deletes the job's invoice (the job is back to done),
and never a second for the same one.

Jobs finished together are invoiced together (up to 50 to a request), their customers
found or made in the finance system in batches too. Each job is invoiced in the
organisation ownership/organisations.py names for it (a customer rule, a pipeline rule,
else the default), and its customer's contact there is that organisation's own. Whether
the finance system may already hold a job's invoice is decided per job (`_already_made`),
whatever batch it was in before and however often it was retried, replayed or killed. A
job whose deal promised another amount than its lines come to waits on one item first
(`promised_amount`), and one in a currency the finance system has not enabled on one
item per currency.
"""

import hashlib
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from connectors.base import (
    BusinessEvent,
    InvoiceDraft,
    InvoiceLine,
    InvoiceMade,
    JobFacts,
    JobLineFacts,
    Tracking,
)
from connectors.errors import ConnectorError, RateLimited, Waiting
from connectors.registry import crm, finance, operations
from handoffs.flows.invoice_figures import figures_compare
from handoffs.flows.invoice_tracking import tracking_compare, tracking_of
from handoffs.flows.promised_amount import promise_differs
from handoffs.flows.shared_fields import records_look_again
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from integration_hub import labels
from ownership.engine import records_converge
from ownership.matching import customers_first_seen, duplicate_waiting
from ownership.models import Link, Record
from ownership.moves import customers_check
from ownership.organisations import organisations_for
from ownership.selectors import customer_hub_id
from ownership.services import (
    link_add,
    link_move,
    record_for_link,
    values_agreed,
)

# The finance system takes up to 50 invoices in one request (Xero's documented batch size).
BATCH_SIZE = 50
# The customers of the jobs invoiced next whose contacts a batch settles with its own.
AHEAD = 200


# An invoice voided or deleted in the finance system sends its job back to done.
CANCELLED = ("voided", "deleted")


def key(happened: BusinessEvent) -> str:
    """One invoice per job, however often the job is completed; once more each time its
    invoice is voided or deleted (the job's move back to done is that event)."""
    if happened.type == "job.status_changed":
        return f"{job_key(happened.object_id)}:again:{happened.data.get('event_id')}"
    return job_key(happened.object_id)


def _applies(happened: BusinessEvent) -> bool:
    """A completion, or an invoiced job back to done (only the finance system does that)."""
    if happened.type != "job.status_changed":
        return True
    return (happened.data.get("from"), happened.data.get("to")) == ("invoiced", "done")


def job_key(number: str) -> str:
    return f"operations:job:{number}:invoice"


def invoicing_run(number: str) -> HandoffRun | None:
    """The run that invoices the job numbered `number`, once its completion reached the hub."""
    runs = HandoffRun.objects.select_related("review_item")
    return runs.filter(handoff="job_done_to_invoice", key=job_key(number)).first()


def _customer_record(job: JobFacts) -> Record:
    register = operations()
    return record_for_link(
        type=Record.Type.CUSTOMER,
        system=register.system,
        external_id=job.customer_id,
        label=job.customer.name,
    )


def _moved(
    customers: dict[int, str],
    results: dict,
    money,
    organisation: str,
    *,
    lately: bool,
    ahead: list[str] | None = None,
) -> dict[int, str]:
    """Follow the runs' customers (run → id) the finance system merged away or archived;
    return each followed run's survivor. A run whose customer a person must settle waits
    on its item. `lately`: leave out the customers read lately (customers_moved).
    `ahead`: the customers of the jobs waiting their turn, checked in the same calls, so a
    month end reads each contact once, 100 at a time."""
    said = customers_check(
        system=money.system,
        organisation=organisation,
        ids=sorted(set(customers.values()) | set(ahead or ())),
        unless_read_lately=lately,
    )
    followed = {}
    for pk, customer in customers.items():
        answer = said.get(customer)
        if isinstance(answer, str):
            followed[pk] = answer
        elif answer is not None:  # still linked (so never matched anew): it waits
            results[pk] = answer
    return followed


def _refused_moved(
    chunk: list, drafts: list[InvoiceDraft], results: dict, money, organisation: str
) -> None:
    """An invoice refused because its contact is archived (merged away or archived since
    the hub last read it, and no event told yet): look now. A merge is followed and the run
    goes again, to the survivor; so does a run whose link another run or a person moved
    or ended meanwhile. One archived with no survivor: the run waits on its one item."""
    gone = {
        run.pk: draft.customer_id
        for (run, _), draft in zip(chunk, drafts, strict=True)
        if getattr(results.get(run.pk), "code", "") == "archived_contact"
    }
    followed = _moved(gone, results, money, organisation, lately=False)
    still = set(
        Link.objects.filter(
            _of_organisation(money, organisation),
            record_type=Record.Type.CUSTOMER,
            system=money.system,
            external_id__in=gone.values(),
        ).values_list("external_id", flat=True)
    )
    for pk, customer in gone.items():
        if pk in followed or customer not in still:
            results[pk] = Waiting(
                f"{money.label} refused contact {customer}: it was merged into another or "
                "archived, and the hub's link has moved from it since. The invoice goes "
                "again, to the customer's contact now.",
                system=money.system,
                retry_after=1.0,
            )


@dataclass(frozen=True)
class _Ahead:
    """A job waiting its turn, whose customer is settled with a batch's (its results are
    the batch's to drop: its own run decides for it)."""

    pk: str


def _jobs_ahead(
    jobs: list[tuple[HandoffRun, JobFacts]], money, organisation: str
) -> list[tuple[_Ahead, JobFacts]]:
    """The jobs whose invoices come next (finished and waiting their turn, then under way;
    up to AHEAD customers) whose customers have no contact in the organisation yet, one per
    customer not in this batch: a month end's new customers are looked up in one search
    and made 50 to a request, whatever the pace at which its jobs are marked done, not a
    search per batch. (A job under way that is cancelled later leaves its customer's
    contact in the finance system, without an invoice.)"""
    register, seen = operations(), {job.customer_id for _, job in jobs}
    next_up = {c: n for c, n in register.jobs_invoiced_next(AHEAD).items() if c not in seen}
    for customer in _contacts_of(money, organisation, list(next_up)):
        del next_up[customer]
    waiting = {}
    for number in next_up.values():
        try:
            job = register.job_read(number)
        except ConnectorError:  # its own run says so, in its turn
            continue
        if job.customer_id and not job.invoice_number:
            waiting[number] = (job, _customer_record(job))
    try:
        chosen = organisations_for(waiting) if waiting else {}
    except Exception:  # the CRM could not say: each waits for its own turn
        return []
    return [
        (_Ahead(f"ahead:{n}"), waiting[n][0]) for n, org in chosen.items() if org == organisation
    ]


def finance_customers(
    jobs: list[tuple[HandoffRun, JobFacts]], results: dict, money, organisation: str
) -> dict[str, str]:
    """Each job's customer id in the organisation: linked, found by the hub's id, matched,
    or made (many to a request). A job whose customer cannot be settled gets its reason."""
    records = {job.number: _customer_record(job) for _, job in jobs}
    links = Link.objects.filter(_of_organisation(money, organisation), system=money.system)
    found = dict(links.filter(record__in=records.values()).values_list("record_id", "external_id"))
    # Never invoice a contact merged away or archived; one read lately is left to Xero's
    # refusal (_refused_moved), so an invoice batch reads no contact twice in an hour.
    pks = {run.pk: records[job.number].pk for run, job in jobs}
    linked = {run: found[pk] for run, pk in pks.items() if pk in found}
    ahead = _customers_next(money, organisation)
    for run, survivor in _moved(
        linked, results, money, organisation, lately=True, ahead=ahead
    ).items():
        found[pks[run]] = survivor
    already = set(found)
    everyone: list[tuple[HandoffRun | _Ahead, JobFacts]] = list(jobs)
    if any(r.pk not in found for r in records.values()):
        # Settled here too: the new customers of the jobs waiting their turn.
        ahead = _jobs_ahead(jobs, money, organisation)
        records |= {job.number: _customer_record(job) for _, job in ahead}
        everyone += ahead
    missing = {
        customer_hub_id(record=r, system=money.system): r
        for r in records.values()
        if r.pk not in found
    }
    hub_ids = {r.pk: hub_id for hub_id, r in missing.items()}
    # One search for both: the contacts the hub made (its id as ContactNumber, should an
    # answer have been lost) and those that may be the customers not linked yet.
    customers = {records[job.number].pk: job.customer for _, job in everyone}
    sought = [customers[record.pk] for record in missing.values()]
    by_hub_id, candidates = money.customers_sought(list(missing), sought) if missing else ({}, [])
    for hub_id, customer_id in by_hub_id.items():
        link_add(
            record=missing[hub_id],
            system=money.system,
            external_id=customer_id,
            reason="carries the hub's id",
            organisation=organisation,
        )
        found[missing[hub_id].pk] = customer_id
    candidates_of = dict(zip([r.pk for r in missing.values()], candidates, strict=True))
    new = {}
    unmatched = [(run, job) for run, job in everyone if records[job.number].pk not in found]
    sightings = customers_first_seen(
        many=[job.customer for _, job in unmatched],
        only={money.system},
        within=organisation,
        asked={money.system: [candidates_of[records[job.number].pk] for _, job in unmatched]},
    )
    for (run, job), seen in zip(unmatched, sightings, strict=True):
        record = records[job.number]
        waiting = duplicate_waiting(details=job.customer, target=money.system, what="invoice")
        linked = links.filter(record=record).first()
        if seen.missed or waiting is not None:
            results[run.pk] = seen.missed[0] if seen.missed else waiting
        elif linked:
            found[record.pk] = linked.external_id
        else:
            new[hub_ids[record.pk]] = (run, job)
    if new:
        # The hub ids are new after a link ended (customer_hub_id): a new request, not a
        # replay of the one that made the contact archived since.
        ids = sorted(new)
        made = money.customers_create(
            [(hub_id, job.customer) for hub_id, (_, job) in new.items()],
            idempotency_key="hub-customers-" + hashlib.sha256("|".join(ids).encode()).hexdigest(),
        )
        for each in made:
            run, job = new[each.key]
            if each.refused:
                results[run.pk] = each.refused
                continue
            # The new contact's own webhook may have linked it first (a slow answer).
            if not links.filter(record=records[job.number], external_id=each.customer_id).exists():
                link_add(
                    record=records[job.number],
                    system=money.system,
                    external_id=each.customer_id,
                    reason=f"made for job {job.number}",
                    organisation=organisation,
                )
            # Made from the register's values: the systems agree on them as of now.
            made_from = job.customer.shared_values()
            del made_from["contact_name"]  # a contact is made without its person
            values_agreed(record=records[job.number], values=made_from)
            found[records[job.number].pk] = each.customer_id
    # Newly linked: the engine learns what the systems agree on before anyone changes it.
    linked = [r for r in records.values() if r.pk in found and r.pk not in already]
    records_look_again(records=linked, change=f"linked in {money.system}")
    for run, _ in everyone:
        if isinstance(run, _Ahead):
            results.pop(run.pk, None)
    return {
        job.number: found[records[job.number].pk]
        for _, job in jobs
        if records[job.number].pk in found
    }


def _of_organisation(money, organisation: str) -> Q:
    """The links to the organisation's ids; one made while several were connected and no
    default was chosen records no organisation, and is the default organisation's."""
    try:
        default = money.organisation_default()
    except ConnectorError:
        default = None
    mine = Q(organisation=organisation)
    return mine | Q(organisation="") if organisation == default else mine


def _line(line: JobLineFacts) -> InvoiceLine:
    return InvoiceLine(
        line.description,
        line.quantity,
        line.unit_price,
        line.item_code,
        line.tax,
        line.rate,
        line.discount,
    )


def invoice_draft(
    job: JobFacts, customer_id: str, tracking: tuple[Tracking, ...] = ()
) -> InvoiceDraft:
    return InvoiceDraft(
        reference=job.number,
        customer_id=customer_id,
        lines=tuple(_line(line) for line in job.lines),
        prices_include_gst=job.prices_include_gst,
        issued=timezone.localdate(),
        tracking=tracking,
        currency=job.currency,
    )


def draft_key(draft: InvoiceDraft, *, replaces: str = "", refusals: int = 0) -> str:
    """A job's Idempotency-Key: tied to its content, so a corrected job is a new request;
    to the invoice it replaces (one voided, deleted or credited), so the request for its
    new invoice is never answered with the old one; and to how often the finance system
    refused it, so a Retry after a fix made outside the job (an account restored) is not
    answered with the refusal replayed. A request whose answer was lost keeps its key."""
    lines = [
        (x.item_code, x.quantity, x.unit_price, x.tax) + ((x.discount,) if x.discount else ())
        for x in draft.lines
    ]
    tracked = [draft.tracking] if draft.tracking else []
    content = hashlib.sha256(
        repr(
            lines + [draft.prices_include_gst, draft.customer_id, draft.currency] + tracked
        ).encode()
    ).hexdigest()[:16]
    after = f"-after-{replaces}" if replaces else ""
    again = f"-{refusals}" if refusals else ""
    return f"hub-job-{draft.reference}{after}-{content}{again}"


def credited_invoices(numbers: list[str]) -> frozenset[str]:
    """The finance ids of the invoices these jobs had credited to be drafted anew: they
    carry the jobs' numbers too, but are never the invoice a job is looking for."""
    runs = HandoffRun.objects.filter(handoff="credit_and_redraft", record_ref__in=numbers)
    return frozenset(run.payload["invoice_id"] for run in runs)


def refusal_count(run: HandoffRun) -> None:
    """Count a refusal of the run's invoice: nothing was made, so its next request may go
    with a new key (draft_key) and nothing needs looking up first."""
    refusals = run.payload.get("refusals", 0) + 1
    HandoffRun.objects.filter(pk=run.pk).update(
        effect_sent_at=None, payload={**run.payload, "refusals": refusals}
    )


def _contacts_of(money, organisation: str, customers: list[str]) -> dict[str, str]:
    """The register's customers (ids) linked in the organisation → their finance ids."""
    records = dict(
        Link.objects.filter(
            system=operations().system, record_type=Record.Type.CUSTOMER, external_id__in=customers
        ).values_list("record_id", "external_id")
    )
    linked = Link.objects.filter(
        _of_organisation(money, organisation), system=money.system, record_id__in=records
    ).values_list("record_id", "external_id")
    return {records[record]: contact for record, contact in linked}


def _customers_next(money, organisation: str, limit: int = 200) -> list[str]:
    """The organisation's customers whose invoices come next (their terms are read ahead,
    in the same calls): of the finished jobs waiting their turn, then of the jobs under way."""
    customers = list(operations().jobs_invoiced_next(limit))
    return list(_contacts_of(money, organisation, customers).values())


def invoices_record(
    pairs: list[tuple[JobFacts, InvoiceMade]], *, organisation: str = ""
) -> dict[str, Outcome]:
    """Link each invoice the organisation has to its job (and deal), then let the engine
    carry it everywhere."""
    money, register, sales = finance(), operations(), crm()
    where = money.label
    if name := money.organisations().get(organisation):
        where = f"{money.label} ({name})"
    records = []
    for job, made in pairs:
        why = f"made for job {job.number}"
        invoice = record_for_link(
            type=Record.Type.INVOICE,
            system=money.system,
            external_id=made.invoice_id,
            label=made.number,
            reason=why,
            organisation=organisation,
        )
        # A job invoiced anew: the job and the deal follow its new invoice from now on.
        link_move(record=invoice, system=register.system, external_id=job.number, reason=why)
        if job.origin_system == sales.system:
            link_move(record=invoice, system=sales.system, external_id=job.origin_ref, reason=why)
        records.append(invoice)
    # What the finance system just answered is its current value: no need to read it again.
    fresh = {
        record.pk: {
            money.system: {
                "number": made.number,
                "status": made.status,
                "total": made.total,
                "amount_paid": made.amount_paid,
                "amount_due": made.amount_due,
                "last_payment_date": None,
            }
        }
        for record, (_, made) in zip(records, pairs, strict=True)
    }
    for job, made in pairs:  # kept before the job reads as invoiced
        register.job_invoice_figures(job.number, made.figures)
    outcomes = records_converge(records=records, fresh=fresh)
    # An invoice not brought in line now (a system failed, or its record was busy) gets a
    # run of its own, retried until it is: Xero's "created" event for it reads nothing.
    behind = [r for r, o in zip(records, outcomes, strict=True) if isinstance(o, Exception)]
    if behind:
        records_look_again(
            records=behind, change=f"made, not in line: {timezone.now().isoformat()}"
        )
    said = {}
    for (job, made), outcome in zip(pairs, outcomes, strict=True):
        later = (
            f" ({outcome.message} A run of its own brings the rest in line.)"
            if isinstance(outcome, Exception)
            else ""
        )
        said[job.number] = Outcome(
            f"Draft invoice {made.number} for {made.total} created in {where}.{later}",
            result={
                "invoice_id": made.invoice_id,
                "number": made.number,
                "organisation": organisation,
            },
        )
    return said


def _already_made(
    jobs: list[tuple[HandoffRun, JobFacts]],
    results: dict,
    money,
    organisation: str,
    tracking: dict,
) -> list[tuple[HandoffRun, JobFacts]]:
    """Record the invoices the finance system already made for these jobs; return the rest.

    A run whose last request to create its invoice got no recorded answer (its worker was
    killed, the call timed out, the system failed) may have its invoice there already,
    whatever batch it was in and however often staff retried since: it is looked up by
    its reference (the job's number) first. One not found whose request may still be
    settling waits a little instead of being sent again.
    """
    sent = [job.number for run, job in jobs if run.effect_sent_at]
    if not sent:
        return jobs
    found = money.invoices_by_reference(sent, besides=credited_invoices(sent))
    settle = timedelta(seconds=settings.XERO_SETTLE_SECONDS)
    remaining, recorded = [], []
    for run, job in jobs:
        if job.number in found:
            recorded.append((run, job, found[job.number]))
        elif run.effect_sent_at and run.effect_sent_at + settle > timezone.now():
            results[run.pk] = Waiting(
                f"The last request for job {job.number}'s invoice got no answer; the hub "
                "waits until the finance system has surely finished with it, then looks again.",
                system=money.system,
                retry_after=(run.effect_sent_at + settle - timezone.now()).total_seconds(),
            )
        else:
            remaining.append((run, job))
    outcomes = invoices_record(
        [(job, made) for _, job, made in recorded], organisation=organisation
    )
    for run, job, made in recorded:  # read from the finance system just now
        results[run.pk] = figures_said(job, made, outcomes[job.number], tracking[job.number], made)
    return remaining


def figures_said(
    job: JobFacts,
    made: InvoiceMade,
    outcome: Outcome,
    tracking: tuple[Tracking, ...] = (),
    held: InvoiceMade | None = None,
) -> Outcome:
    """The outcome, saying so when the finance system's figures differ from the hub's, or
    the invoice as it holds it (`held`, read back) lacks the lines' tracking (an item is
    open for each: the invoice is made all the same, and never made again)."""
    said = ""
    item = figures_compare(job, made)
    if item is not None:
        said += f" Its figures differ from the hub's: see review item {item.pk}."
    lost = tracking_compare(job, tracking, held or made) if tracking else None
    if lost is not None:
        said += f" Its lines did not keep their tracking: see review item {lost.pk}."
    return replace(outcome, summary=outcome.summary + said) if said else outcome


def jobs_tracking(jobs: list[tuple[HandoffRun, JobFacts]], results: dict, money) -> dict:
    """Each job's tracking (by number); a job without one, or whose option the finance
    system does not have, gets its reason instead."""
    try:
        found = tracking_of([job for _, job in jobs])
    except Exception as error:  # the CRM could not be read: every job waits for it
        found = {job.number: error for _, job in jobs}
    refused = money.tracking_check({n: t for n, t in found.items() if not isinstance(t, Exception)})
    for run, job in jobs:
        why = refused.get(job.number) or found[job.number]
        if isinstance(why, Exception):
            results[run.pk] = why
    return found


def batch(runs: list[HandoffRun]) -> list[Outcome | Exception]:
    """Invoice many finished jobs with as few calls as can be: 50 invoices a request.

    Each job's problems (a missing detail, an unknown item code) stay its own: the
    finance system answers per invoice, and the answers are mapped back.
    """
    register = operations()
    results: dict[int, Outcome | Exception] = {}
    jobs: list[tuple[HandoffRun, JobFacts]] = []
    for run in runs:
        try:
            job = register.job_read(run.record_ref)
            run.record_label = job.label
            HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
            if job.invoice_number and job.invoice_status not in CANCELLED:
                results[run.pk] = Outcome(
                    f"Job {job.number} already has invoice {job.invoice_number}.", skipped=True
                )
                continue
            differs = promise_differs(job)
            if differs is not None:  # asked before anything reaches the finance system
                results[run.pk] = differs
                continue
            jobs.append((run, job))
        except Exception as error:  # this job's problem (or a bug) is its own review item
            results[run.pk] = error
    by_organisation: dict[str, list[tuple[HandoffRun, JobFacts]]] = {}
    try:
        chosen = organisations_for({job.number: (job, _customer_record(job)) for _, job in jobs})
    except Exception as error:  # the CRM could not say the deals' pipelines: all wait
        chosen = {job.number: error for _, job in jobs}
    for run, job in jobs:
        if isinstance(chosen[job.number], Exception):
            results[run.pk] = chosen[job.number]
        else:
            by_organisation.setdefault(chosen[job.number], []).append((run, job))
    for organisation, group in by_organisation.items():
        _invoice(group, results, organisation)
    return [results[run.pk] for run in runs]


def _invoice(jobs: list[tuple[HandoffRun, JobFacts]], results: dict, organisation: str) -> None:
    """Invoice these jobs in one organisation, 50 to a request; put each job's outcome in
    `results`."""
    money = finance().within(organisation)
    # Accounts and tax types Xero would refuse are caught before anything is sent.
    refused = money.invoice_lines_check(
        {job.number: tuple(_line(line) for line in job.lines) for _, job in jobs}
    )
    # A currency it has not enabled too (after the lines' own problem, when both).
    refused = money.invoice_currencies_check({j.number: j.currency for _, j in jobs}) | refused
    for run, job in jobs:
        if job.number in refused:
            results[run.pk] = refused[job.number]
    jobs = [(run, job) for run, job in jobs if run.pk not in results]
    tracking = jobs_tracking(jobs, results, money)
    jobs = [(run, job) for run, job in jobs if run.pk not in results]
    customers = finance_customers(jobs, results, money, organisation)
    jobs = [(run, job) for run, job in jobs if run.pk not in results]
    jobs = _already_made(jobs, results, money, organisation, tracking)
    for start in range(0, len(jobs), BATCH_SIZE):
        chunk = jobs[start : start + BATCH_SIZE]
        drafts = [
            invoice_draft(job, customers[job.number], tracking[job.number]) for _, job in chunk
        ]
        keys = sorted(
            draft_key(draft, replaces=job.invoice_number, refusals=run.payload.get("refusals", 0))
            for draft, (run, job) in zip(drafts, chunk, strict=True)
        )
        # Deterministic: a retry of the same request replays the first answer.
        request_key = (
            keys[0]
            if len(keys) == 1
            else "hub-batch-" + hashlib.sha256("|".join(keys).encode()).hexdigest()[:40]
        )
        # Written before the request: if no answer is recorded, the next attempt looks first.
        HandoffRun.objects.filter(pk__in=[run.pk for run, _ in chunk]).update(
            effect_sent_at=timezone.now()
        )
        try:
            made = money.invoices_create(
                drafts, idempotency_key=request_key, read_ahead=_customers_next(money, organisation)
            )
        except RateLimited:
            # Refused before Xero acted (the hub's own pacing, or Xero's 429): this request
            # reached nobody, so the next attempt sends at once instead of looking it up.
            earlier: dict = {}
            for run, _ in chunk:
                earlier.setdefault(run.effect_sent_at, []).append(run.pk)
            for sent_at, pks in earlier.items():
                HandoffRun.objects.filter(pk__in=pks).update(effect_sent_at=sent_at)
            raise
        good = []
        for (run, job), invoice in zip(chunk, made, strict=True):
            if invoice.refused:  # refused: nothing was made for this job
                refusal_count(run)
                results[run.pk] = invoice.refused
            else:
                good.append((run, job, invoice))
        # Read back before recording: should the read fail, the retry finds the invoices
        # by reference and checks them then.
        tracked = [i.invoice_id for _, job, i in good if tracking[job.number]]
        held = money.invoices_by_id(tracked) if tracked else {}
        _refused_moved(chunk, drafts, results, money, organisation)
        outcomes = invoices_record(
            [(job, invoice) for _, job, invoice in good], organisation=organisation
        )
        for run, job, invoice in good:
            results[run.pk] = figures_said(
                job,
                invoice,
                outcomes[job.number],
                tracking[job.number],
                held.get(invoice.invoice_id),
            )


def perform(run: HandoffRun) -> Outcome:
    """Create the job's draft invoice (a batch of one)."""
    (result,) = batch([run])
    if isinstance(result, Exception):
        raise result
    return result


handoff_register(
    Handoff(
        name="job_done_to_invoice",
        label=labels.HANDOFFS["job_done_to_invoice"],
        listens_to=frozenset({"job.completed", "job.status_changed"}),
        applies=_applies,
        queue="xero",
        record_type="job",
        key=key,
        perform=perform,
        batch=batch,
        batch_size=BATCH_SIZE,
        gather_seconds=settings.XERO_INVOICE_GATHER_SECONDS,
    )
)
