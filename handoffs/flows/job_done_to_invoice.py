"""Job finished in operations → one DRAFT invoice in the finance system, per job; one more
each time the finance system voids or deletes the job's invoice (the job is back to done),
and never a second for the same one.

Jobs finished together are invoiced together (up to 50 to a request), their customers
found or made in the finance system in batches too. Whether the finance system may
already hold a job's invoice is decided per job (`_already_made`), whatever batch it was
in before and however often it was retried, replayed or killed. A job whose deal promised
another amount than its lines come to waits on one item first (`promised_amount`), and
one in a currency the finance system has not enabled on one item per currency.
"""

import hashlib
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from connectors.base import (
    BusinessEvent,
    InvoiceDraft,
    InvoiceLine,
    InvoiceMade,
    JobFacts,
    JobLineFacts,
)
from connectors.errors import Waiting
from connectors.registry import crm, finance, operations
from handoffs.flows.invoice_figures import figures_compare
from handoffs.flows.promised_amount import promise_differs
from handoffs.flows.shared_fields import records_look_again
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from integration_hub import labels
from ownership.engine import records_converge
from ownership.matching import customers_first_seen, duplicate_waiting
from ownership.models import Link, Record
from ownership.services import (
    link_add,
    link_move,
    record_for_link,
    values_agreed,
)

# The finance system takes up to 50 invoices in one request (Xero's documented batch size).
BATCH_SIZE = 50


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


def finance_customers(jobs: list[tuple[HandoffRun, JobFacts]], results: dict) -> dict[str, str]:
    """Each job's customer id in the finance system: linked, found by the hub's id, matched,
    or made (many to a request). A job whose customer cannot be settled gets its reason."""
    money = finance()
    records = {job.number: _customer_record(job) for _, job in jobs}
    found = dict(
        Link.objects.filter(record__in=records.values(), system=money.system).values_list(
            "record_id", "external_id"
        )
    )
    already = set(found)
    missing = {r.pk: r for r in records.values() if r.pk not in found}
    for hub_id, customer_id in money.customers_by_hub_id([str(pk) for pk in missing]).items():
        link_add(
            record=missing[int(hub_id)],
            system=money.system,
            external_id=customer_id,
            reason="carries the hub's id",
        )
        found[int(hub_id)] = customer_id
    new = {}
    unmatched = [(run, job) for run, job in jobs if records[job.number].pk not in found]
    sightings = customers_first_seen(
        many=[job.customer for _, job in unmatched], only={money.system}
    )
    for (run, job), seen in zip(unmatched, sightings, strict=True):
        record = records[job.number]
        waiting = duplicate_waiting(details=job.customer, target=money.system, what="invoice")
        linked = Link.objects.filter(record=record, system=money.system).first()
        if seen.missed or waiting is not None:
            results[run.pk] = seen.missed[0] if seen.missed else waiting
        elif linked:
            found[record.pk] = linked.external_id
        else:
            new[record.pk] = (run, job)
    if new:
        ids = sorted(str(pk) for pk in new)
        made = money.customers_create(
            [(str(pk), job.customer) for pk, (_, job) in new.items()],
            idempotency_key="hub-customers-" + hashlib.sha256("|".join(ids).encode()).hexdigest(),
        )
        for each in made:
            run, job = new[int(each.key)]
            if each.refused:
                results[run.pk] = each.refused
                continue
            link_add(
                record=records[job.number],
                system=money.system,
                external_id=each.customer_id,
                reason=f"made for job {job.number}",
            )
            # Made from the register's values: the systems agree on them as of now.
            made_from = job.customer.shared_values()
            del made_from["contact_name"]  # a contact is made without its person
            values_agreed(record=records[job.number], values=made_from)
            found[int(each.key)] = each.customer_id
    # Newly linked: the engine learns what the systems agree on before anyone changes it.
    linked = [r for r in records.values() if r.pk in found and r.pk not in already]
    records_look_again(records=linked, change=f"linked in {money.system}")
    return {
        job.number: found[records[job.number].pk]
        for _, job in jobs
        if records[job.number].pk in found
    }


def _line(line: JobLineFacts) -> InvoiceLine:
    return InvoiceLine(
        line.description, line.quantity, line.unit_price, line.item_code, line.tax, line.rate
    )


def invoice_draft(job: JobFacts, customer_id: str) -> InvoiceDraft:
    return InvoiceDraft(
        reference=job.number,
        customer_id=customer_id,
        lines=tuple(_line(line) for line in job.lines),
        prices_include_gst=job.prices_include_gst,
        issued=timezone.localdate(),
        currency=job.currency,
    )


def draft_key(draft: InvoiceDraft, *, replaces: str = "", refusals: int = 0) -> str:
    """A job's Idempotency-Key: tied to its content, so a corrected job is a new request;
    to the invoice it replaces (one voided, deleted or credited), so the request for its
    new invoice is never answered with the old one; and to how often the finance system
    refused it, so a Retry after a fix made outside the job (an account restored) is not
    answered with the refusal replayed. A request whose answer was lost keeps its key."""
    content = hashlib.sha256(
        repr(
            [(x.item_code, x.quantity, x.unit_price, x.tax) for x in draft.lines]
            + [draft.prices_include_gst, draft.customer_id, draft.currency]
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


def _customers_next(limit: int = 200) -> list[str]:
    """The finance customers of the finished jobs waiting their turn (their terms are read
    ahead, in the same calls)."""
    numbers = HandoffRun.objects.filter(
        handoff="job_done_to_invoice",
        state__in=[HandoffRun.State.PENDING, HandoffRun.State.RETRYING],
    ).values_list("record_ref", flat=True)[:limit]
    customers = operations().customers_of_jobs(list(numbers))
    records = Link.objects.filter(
        system=operations().system, record_type="customer", external_id__in=customers
    ).values_list("record_id", flat=True)
    return list(
        Link.objects.filter(system=finance().system, record_id__in=records).values_list(
            "external_id", flat=True
        )
    )


def invoices_record(pairs: list[tuple[JobFacts, InvoiceMade]]) -> dict[str, Outcome]:
    """Link each invoice the finance system has to its job (and deal), then let the engine
    carry it everywhere."""
    money, register, sales = finance(), operations(), crm()
    records = []
    for job, made in pairs:
        why = f"made for job {job.number}"
        invoice = record_for_link(
            type=Record.Type.INVOICE,
            system=money.system,
            external_id=made.invoice_id,
            label=made.number,
            reason=why,
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
    said = {}
    for (job, made), outcome in zip(pairs, outcomes, strict=True):
        later = (
            f" ({outcome.message} The next run for the job tells the rest.)"
            if isinstance(outcome, Exception)
            else ""
        )
        said[job.number] = Outcome(
            f"Draft invoice {made.number} for {made.total} created in {money.label}.{later}",
            result={"invoice_id": made.invoice_id, "number": made.number},
        )
    return said


def _already_made(
    jobs: list[tuple[HandoffRun, JobFacts]], results: dict
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
    found = finance().invoices_by_reference(sent, besides=credited_invoices(sent))
    settle = timedelta(seconds=settings.XERO_SETTLE_SECONDS)
    remaining, recorded = [], []
    for run, job in jobs:
        if job.number in found:
            recorded.append((run, job, found[job.number]))
        elif run.effect_sent_at and run.effect_sent_at + settle > timezone.now():
            results[run.pk] = Waiting(
                f"The last request for job {job.number}'s invoice got no answer; the hub "
                "waits until the finance system has surely finished with it, then looks again.",
                system=finance().system,
                retry_after=(run.effect_sent_at + settle - timezone.now()).total_seconds(),
            )
        else:
            remaining.append((run, job))
    outcomes = invoices_record([(job, made) for _, job, made in recorded])
    for run, job, made in recorded:
        results[run.pk] = figures_said(job, made, outcomes[job.number])
    return remaining


def figures_said(job: JobFacts, made: InvoiceMade, outcome: Outcome) -> Outcome:
    """The outcome, saying so when the finance system's figures differ from the hub's (an
    item is open for it: the invoice is made all the same, and never made again)."""
    item = figures_compare(job, made)
    if item is None:
        return outcome
    said = f" Its figures differ from the hub's: see review item {item.pk}."
    return replace(outcome, summary=outcome.summary + said)


def batch(runs: list[HandoffRun]) -> list[Outcome | Exception]:
    """Invoice many finished jobs with as few calls as can be: 50 invoices a request.

    Each job's problems (a missing detail, an unknown item code) stay its own: the
    finance system answers per invoice, and the answers are mapped back.
    """
    register, money = operations(), finance()
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
    customers = finance_customers(jobs, results)
    jobs = [(run, job) for run, job in jobs if run.pk not in results]
    jobs = _already_made(jobs, results)
    for start in range(0, len(jobs), BATCH_SIZE):
        chunk = jobs[start : start + BATCH_SIZE]
        drafts = [invoice_draft(job, customers[job.number]) for _, job in chunk]
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
        made = money.invoices_create(
            drafts, idempotency_key=request_key, read_ahead=_customers_next()
        )
        good = []
        for (run, job), invoice in zip(chunk, made, strict=True):
            if invoice.refused:  # refused: nothing was made for this job
                refusal_count(run)
                results[run.pk] = invoice.refused
            else:
                good.append((run, job, invoice))
        outcomes = invoices_record([(job, invoice) for _, job, invoice in good])
        for run, job, invoice in good:
            results[run.pk] = figures_said(job, invoice, outcomes[job.number])
    return [results[run.pk] for run in runs]


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
