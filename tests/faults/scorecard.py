"""The fault suite's scorecard: for each scenario, what it sent and, once the hub is quiet
again, what was lost, duplicated, stuck or silent, and how long recovery took.

- lost: an expected effect (a deal's job, the deal told of its job, a finished job's
  invoice, a paid invoice on its job and deal, Xero's address on the HubSpot company)
  missing with no run still working on it and no open review item; or an event posted
  (and re-posted as HubSpot retries) that the hub never stored.
- duplicated: a second effect for the scenario's deals: two live Xero invoices with one
  job's Reference (one credited in full is not live), two credit notes or allocations for
  one invoice, two Xero contacts or two register customers with one customer's name
  (a second job for a deal is refused by a unique constraint).
- stuck: runs not finished (done, skipped or waiting on an open item) once the deadline
  passed, events or outbox rows never processed, attempts left 'running'.
- silent: a run waiting for review with no open item, or a run that says done while its
  effect is missing.
- 5xx-stored: deliveries the hub stored but answered with an error (the sender retries a
  delivery it was told failed).
- items: review items open at the end. Every scenario expects none: its faults end before
  a run's retries run out, or staff press Retry, so nothing should be left for a person.
- recover: from the fault's end until the hub is quiet (every run finished, inbox and
  outbox empty, the sandboxes' webhooks delivered, nothing changing for QUIET_SECONDS).
"""

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from handoffs.models import HandoffAttempt, HandoffRun, InboundEvent
from operations.models import Customer, Job, JobEvent
from review_queue.models import ReviewItem

QUIET_SECONDS = 3.0
UNFINISHED = [HandoffRun.State.PENDING, HandoffRun.State.RUNNING, HandoffRun.State.RETRYING]
ROWS: list["Row"] = []


@dataclass
class Row:
    """One scenario's line on the scorecard."""

    scenario: str
    sent: int
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    silent: int = 0
    refused: int = 0
    items: int = 0
    recover: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing lost, doubled, stuck or silent, no stored delivery refused, and no item
        left for staff: every scenario's faults end before a run's retries run out (or
        staff press Retry), so the hub must recover by itself."""
        counts = (self.lost, self.duplicated, self.stuck, self.silent, self.refused, self.items)
        return not any(counts) and self.recover is not None

    def explain(self) -> str:
        return f"{self.scenario}:\n  " + "\n  ".join(self.notes or ["(no notes)"])


def table(rows: list[Row]) -> str:
    """Return the scorecard as a plain-text table, with each scenario's notes below it."""
    width = max([len(r.scenario) for r in rows] + [8])
    head = f"{'scenario':<{width}}  sent  lost  dup  stuck  silent  5xx-stored  items  recover"
    lines = [head, "-" * len(head)]
    for r in rows:
        recover = f"{r.recover:6.1f} s" if r.recover is not None else "  never"
        lines.append(
            f"{r.scenario:<{width}}  {r.sent:4}  {r.lost:4}  {r.duplicated:3}  {r.stuck:5}  "
            f"{r.silent:6}  {r.refused:10}  {r.items:5}  {recover}"
        )
    failing = [r for r in rows if r.notes]
    if failing:
        lines += ["", "Notes:"] + [r.explain() for r in failing]
    return "\n".join(lines) + "\n"


def _busy(hub) -> tuple[str, tuple]:
    """What the hub still has in hand (empty when nothing), and a fingerprint of progress."""
    busy = {
        "runs": HandoffRun.objects.filter(state__in=UNFINISHED).count(),
        "inbox": InboundEvent.objects.filter(state=InboundEvent.State.PENDING).count(),
        "outbox": JobEvent.objects.filter(forwarded_at__isnull=True).count(),
        "HubSpot webhooks": len(hub.hubspot.sender.pending) + hub.hubspot.sender.busy,
        "Xero webhooks": len(hub.xero.sender.pending) + hub.xero.sender.busy,
    }
    progress = (
        HandoffRun.objects.count(),
        HandoffAttempt.objects.count(),
        InboundEvent.objects.count(),
        ReviewItem.objects.count(),
    )
    return ", ".join(f"{n} {what}" for what, n in busy.items() if n), progress


def wait_quiet(hub, *, since: float, timeout: float) -> tuple[float | None, str]:
    """Wait until the hub is quiet; return the seconds from `since` until it was (None if
    never) and what it still had in hand. Each change seen is logged in quiet.log."""
    deadline = time.monotonic() + timeout
    quiet_from, last, busy = None, None, ""
    with open(hub.folder / "quiet.log", "a") as log:
        while time.monotonic() < deadline:
            busy, progress = _busy(hub)
            now = time.monotonic()
            if busy or progress != last:
                log.write(f"{now - since:7.1f} s  busy: {busy or '-'}  progress: {progress}\n")
            if busy:
                quiet_from = None
            elif progress != last or quiet_from is None:
                quiet_from = now
            elif now - quiet_from >= QUIET_SECONDS:
                return max(quiet_from - since, 0.0), ""
            last = progress
            time.sleep(0.2)
    return None, busy or "still changing"


@dataclass
class Expected:
    """What a scenario's events must leave behind."""

    deals: list[str]  # each won deal has one job and shows it
    finished: bool = False  # each deal's job was finished: one invoice in Xero, known to the job
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)  # company: (contact, street)
    paid: list[str] = field(default_factory=list)  # invoices paid: the job and the deal say so
    phoned: dict[str, str] = field(default_factory=dict)  # Xero contact: HubSpot's new phone
    credited: dict[str, str] = field(default_factory=dict)  # job: invoice credited, redrafted


@dataclass
class Expect:
    """An effect the scenario's events must have, and the runs that make it."""

    what: str
    met: bool
    refs: list[str]
    handoffs: list[str]


def expectations(hub, expected: Expected) -> Iterator[Expect]:
    """Each won deal has one job, and shows its job's number and status; each finished
    job has its invoice in Xero and knows its number; each moved customer's HubSpot
    company carries Xero's new address, and each Xero contact HubSpot's new phone."""
    deals, finished = expected.deals, expected.finished
    yield from credits_expected(hub, expected.credited)
    for contact, phone in expected.phoned.items():
        phones = [p.get("PhoneNumber") for p in hub.xero_contact(contact).get("Phones") or []]
        yield Expect(
            f"Xero contact {contact} carries HubSpot's phone {phone!r} (it shows {phones})",
            phone in phones,
            [contact],
            ["shared_fields"],
        )
    for company, (contact, street) in expected.moved.items():
        shown = hub.hubspot.store.get("companies", company)["properties"].get("address")
        yield Expect(
            f"HubSpot company {company} carries Xero's address {street!r} (it shows {shown!r})",
            shown == street,
            [contact],
            ["xero_contact_to_carriers"],
        )
    for invoice in expected.paid:
        job = Job.objects.filter(invoice_number=hub.xero_invoice(invoice)["InvoiceNumber"]).first()
        shown = hub.hubspot.store.get("deals", job.origin_ref)["properties"] if job else {}
        yield Expect(
            f"invoice {invoice} is paid on its job ({job.status if job else 'no job'}) and "
            f"its deal ({shown.get('payment_status')})",
            bool(job) and (job.status, shown.get("payment_status")) == ("paid", "paid"),
            [invoice],
            ["invoice_to_crm"],
        )
    jobs = {job.origin_ref: job for job in Job.objects.filter(origin_ref__in=deals)}
    invoices: dict[str, list[str]] = {}
    for invoice in hub.xero_invoices():
        if invoice["Status"] not in ("VOIDED", "DELETED"):
            invoices.setdefault(invoice.get("Reference") or "", []).append(invoice["InvoiceNumber"])
    for deal in deals:
        job = jobs.get(deal)
        yield Expect(f"deal {deal} has its job", job is not None, [deal], ["deal_won_to_job"])
        if job is None:
            continue
        shown = hub.hubspot.store.get("deals", deal)["properties"]
        yield Expect(
            f"deal {deal} shows job {job.number} as {job.status} "
            f"(it shows {shown.get('job_number')} as {shown.get('job_status')})",
            (shown.get("job_number"), shown.get("job_status")) == (job.number, job.status),
            [job.number],
            ["job_to_crm"],
        )
        if finished:
            numbers = invoices.get(job.number, [])
            yield Expect(
                f"job {job.number} is invoiced once and knows it (job: "
                f"{job.invoice_number or 'none'}, Xero: {', '.join(numbers) or 'none'})",
                len(numbers) >= 1 and job.invoice_number in numbers,
                [job.number],
                ["job_done_to_invoice"],
            )


def credits_expected(hub, credited: dict[str, str]) -> Iterator[Expect]:
    """Each credited invoice has its credit note, allocated to it; its job has a new draft
    and knows it."""
    for number, invoice_id in credited.items():
        job, invoice = Job.objects.get(number=number), hub.xero_invoice(invoice_id)
        notes = hub.xero_credit_notes(invoice["InvoiceNumber"])
        allocated = [a for note in notes for a in note.get("Allocations") or []]
        yield Expect(
            f"{invoice['InvoiceNumber']} of job {number} is credited in full "
            f"({invoice.get('AmountCredited')} of {invoice['Total']}, {len(notes)} credit notes)",
            bool(notes) and invoice.get("AmountCredited") == invoice["Total"] and allocated,
            [number],
            ["credit_and_redraft"],
        )
        drafts = [
            i["InvoiceNumber"]
            for i in hub.xero_invoices()
            if i.get("Reference") == number and i["InvoiceID"] != invoice_id
        ]
        yield Expect(
            f"job {number} has its new draft and knows it (job: {job.invoice_number}, "
            f"Xero: {', '.join(drafts) or 'none'})",
            job.invoice_number in drafts,
            [number],
            ["credit_and_redraft"],
        )


def classify(expect: Expect) -> str:
    """ok, explained (an open item says why), working (a run is on it), silent or lost."""
    if expect.met:
        return "ok"
    runs = HandoffRun.objects.filter(handoff__in=expect.handoffs, record_ref__in=expect.refs)
    open_item = (
        ReviewItem.objects.filter(
            status=ReviewItem.Status.OPEN, record_ref__in=expect.refs
        ).exists()
        or runs.filter(
            state=HandoffRun.State.NEEDS_REVIEW, review_item__status=ReviewItem.Status.OPEN
        ).exists()
    )
    if open_item:
        return "explained"
    if runs.filter(state__in=UNFINISHED).exists():
        return "working"
    if runs.filter(state__in=[HandoffRun.State.DONE, HandoffRun.State.SKIPPED]).exists():
        return "silent"
    return "lost"


def duplicates(hub, deals: list[str]) -> list[str]:
    """Every second effect for the scenario's deals: in Xero and in the register."""
    jobs = list(Job.objects.filter(origin_ref__in=deals).select_related("customer"))
    numbers = {job.number for job in jobs}
    names = {job.customer.name for job in jobs if job.customer}
    found = []
    live = [
        i
        for i in hub.xero_invoices()
        if i["Status"] not in ("VOIDED", "DELETED")
        and i.get("AmountCredited", 0) < i["Total"]
        and i.get("Reference") in numbers
    ]
    for ref, n in Counter(i["Reference"] for i in live).items():
        if n > 1:
            numbers_made = [i["InvoiceNumber"] for i in live if i["Reference"] == ref]
            found.append(f"Xero has {n} invoices for job {ref}: {', '.join(numbers_made)}")
    for invoice in hub.xero_invoices():
        if invoice.get("Reference") not in numbers:
            continue
        notes = hub.xero_credit_notes(invoice["InvoiceNumber"])
        allocated = sum(len(note.get("Allocations") or []) for note in notes)
        if len(notes) > 1 or allocated > 1:
            found.append(
                f"Xero has {len(notes)} credit notes ({allocated} allocations) for "
                f"{invoice['InvoiceNumber']}"
            )
    contacts = [c for c in hub.xero_contacts() if c.get("Name") in names]
    for name, n in Counter(c["Name"] for c in contacts).items():
        if n > 1:
            found.append(f"Xero has {n} contacts named {name}")
    for name, n in Counter(
        Customer.objects.filter(name__in=names).values_list("name", flat=True)
    ).items():
        if n > 1:
            found.append(f"the register has {n} customers named {name}")
    return found


def stuck(since) -> list[str]:
    """Work the hub took in after `since` and never finished."""
    found = [
        f"run {r.pk} {r.handoff} {r.record_ref} left {r.state}: {r.summary[:120]}"
        for r in HandoffRun.objects.filter(state__in=UNFINISHED, created_at__gte=since)
    ]
    found += [
        f"event {e.pk} {e.source} {e.event_type} {e.object_id} never processed"
        for e in InboundEvent.objects.filter(state="pending", received_at__gte=since)
    ]
    found += [
        f"outbox event {e.pk} {e.type} never forwarded"
        for e in JobEvent.objects.filter(forwarded_at__isnull=True, created_at__gte=since)
    ]
    orphans = HandoffAttempt.objects.filter(
        outcome=HandoffAttempt.Outcome.RUNNING, started_at__gte=since
    ).exclude(run__state=HandoffRun.State.RUNNING)
    found += [
        f"attempt {a.number} of run {a.run_id} ({a.run.handoff}) left running; the run is "
        f"{a.run.state}"
        for a in orphans.select_related("run")
    ]
    return found


def silent(since) -> list[str]:
    """Runs waiting for a person with no open item to tell one."""
    waiting = HandoffRun.objects.filter(
        state=HandoffRun.State.NEEDS_REVIEW, updated_at__gte=since
    ).exclude(review_item__status=ReviewItem.Status.OPEN)
    return [f"run {r.pk} {r.handoff} {r.record_ref} waits on no open item" for r in waiting]


def open_items(since) -> list[ReviewItem]:
    """Items open now that this scenario's runs opened or added to."""
    return list(ReviewItem.objects.filter(status=ReviewItem.Status.OPEN, last_seen__gte=since))


def score(
    hub, scenario: str, expected: Expected, *, since: float, timeout: float, notes: list[str]
) -> Row:
    """Wait for the hub to be quiet, then measure the scenario and add it to the scorecard.

    Only what happened since the scenario (or the hub's previous scenario) began counts.
    """
    row = Row(scenario, sent=hub.sent, notes=notes)
    began = hub.scenario_began
    row.recover, busy = wait_quiet(hub, since=since, timeout=timeout)
    if row.recover is None:
        row.notes.append(f"never quiet within {timeout:.0f} s: {busy}")
    kinds: dict[str, list[str]] = {}
    for expect in expectations(hub, expected):
        kinds.setdefault(classify(expect), []).append(expect.what)
    unstored = hub.not_stored()
    dups, left = duplicates(hub, expected.deals), stuck(began)
    unseen = silent(began) + [
        f"{what}, although its run says done" for what in kinds.get("silent", [])
    ]
    lost = kinds.get("lost", []) + [f"event {key} never stored" for key in unstored]
    refused = hub.stored_but_refused()
    row.lost, row.duplicated, row.stuck, row.silent = len(lost), len(dups), len(left), len(unseen)
    row.refused = len(refused)
    items = open_items(began)
    row.items = len(items)
    row.notes += [f"lost: {n}" for n in lost] + [f"duplicated: {n}" for n in dups]
    row.notes += [f"stuck: {n}" for n in left] + [f"silent: {n}" for n in unseen]
    if hub.posted:
        answers = dict(Counter(p["statuses"][0] for p in hub.posted))
        row.notes.append(f"first answers to {len(hub.posted)} deliveries: {answers}")
    if refused:
        answers = dict(Counter(p["statuses"][0] for p in refused))
        row.notes.append(f"5xx-stored: {len(refused)} deliveries were stored, answered {answers}")
    row.notes += [
        f"open item: {i.title} ({i.occurrences}x): {' '.join(i.reason.split())[:140]}"
        for i in items
    ]
    if not row.clean:
        row.notes += [f"log: {p.log_path}" for p in hub.processes.values()]
    ROWS.append(row)
    hub.scenario_end()
    return row
