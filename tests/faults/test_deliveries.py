"""Duplicated and reordered deliveries, and staff replaying finished runs in the middle of
the work: a late, repeated or replayed event never makes a second job or invoice, and
never moves a value backwards."""

import random
import time
from concurrent.futures import ThreadPoolExecutor

from handoffs.models import HandoffRun
from operations.models import Job


def test_duplicated_and_reordered_hubspot_and_xero_deliveries(fault_hub):
    hub = fault_hub.start()
    deals = hub.deals_create(12)
    hub.deals_win(deals)  # the CRM's own webhooks: the deals are won
    earlier = int(time.time() * 1000) - 60_000
    # A minute-old stage change for each deal, and the win again, each delivered twice or
    # three times, in batches, in shuffled order: many a stale event arrives last.
    events = []
    for n, deal in enumerate(deals):
        stale = hub.deal_event(deal, event_id=1000 + n, stage="contractsent", occurredAt=earlier)
        events += [stale] * 2 + [hub.deal_event(deal, event_id=2000 + n, stage="closedwon")] * 3
    shuffled = random.Random(11)
    shuffled.shuffle(events)
    batches = [events[start : start + 5] for start in range(0, len(events), 5)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hub.hubspot_post, batches))
    jobs = hub.jobs(deals)
    hub.jobs_finish(jobs)
    invoiced = Job.objects.filter(origin_ref__in=deals).exclude(invoice_number="")
    hub.until(lambda: invoiced.count() == len(deals), "every job to be invoiced")
    # The invoices are approved and paid in Xero; then Xero's events come again, twice,
    # newest first, the oldest (a CREATE from an hour ago) last.
    paid = hub.invoices_pay(list(invoiced))
    history = [
        ("UPDATE", "2026-01-01T01:00:00.000"),
        ("UPDATE", "2026-01-01T00:30:00.000"),
        ("CREATE", "2026-01-01T00:00:00.000"),
    ]
    xero_events = [(invoice, kind, at) for invoice in paid for kind, at in history]
    for start in range(0, len(xero_events), 6):
        for _ in range(2):
            hub.xero_post(xero_events[start : start + 6])
    row = hub.score(
        f"{len(events)} HubSpot and {2 * len(xero_events)} Xero events, duplicated and reordered",
        deals=deals,
        finished=True,
        paid=paid,
    )
    assert row.clean, row.explain()


def test_staff_replay_finished_runs_while_jobs_are_invoiced(fault_hub):
    hub = fault_hub.start()
    deals = hub.deals_create(8)
    hub.deals_win(deals)
    jobs = hub.jobs(deals)
    # Xero is briefly unwell, so invoicing is still under way when staff replay.
    hub.xero.store.fault_add(operation="PUT /Invoices", status=503, count=2)
    hub.jobs_finish(jobs)
    invoiced = Job.objects.exclude(invoice_number="")
    hub.until(invoiced.exists, "the first invoice")
    finished = HandoffRun.objects.filter(state__in=["done", "skipped"])
    for run in list(finished):
        hub.staff_replay(run)
    ended = time.monotonic()
    row = hub.score(
        f"replay of {finished.count()} finished runs mid-invoicing",
        deals=deals,
        finished=True,
        since=ended,
    )
    assert row.clean, row.explain()
