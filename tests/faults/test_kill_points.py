"""A worker's pool process killed at each point of the invoice handoff, then Xero answering
503 while the hub recovers, then staff pressing Retry on the review item: each job still
ends with exactly one invoice (the issue's real case: one job got INV-0027 and INV-0062).
The same kill while staff credit an approved invoice and redraft it: one credit note, one
allocation and one new draft each."""

import time

import pytest

from handoffs.models import HandoffRun, InboundEvent
from operations.models import Job
from review_queue.models import ReviewItem

POINTS = [
    "before_call:xero:create_invoices",
    "after_call:xero:create_invoices",
    "after_commit:job_done_to_invoice",
]


def waiting_on_xero(jobs: list[Job]) -> ReviewItem | None:
    """The 'Xero is not answering' item, once the jobs' invoice runs wait on it, no run of
    any handoff is still trying and no event waits to start one: every handoff that met
    Xero's 503s waits on this one item (a run still trying could fail after Retry and open
    a new one)."""
    runs = HandoffRun.objects.filter(handoff="job_done_to_invoice")
    if runs.filter(record_ref__in=[j.number for j in jobs], state="needs_review").count() < len(
        jobs
    ):
        return None
    if InboundEvent.objects.filter(state="pending").exists():
        return None
    if HandoffRun.objects.filter(state__in=["pending", "running", "retrying"]).exists():
        return None
    return ReviewItem.objects.filter(status="open", kind="unavailable", system="xero").first()


@pytest.mark.parametrize("point", POINTS)
def test_killed_then_xero_503_then_staff_retry_leaves_one_invoice_per_job(fault_hub, point):
    scenario = f"kill at {point}, Xero 503, staff Retry"
    hub = fault_hub.start(fault_points=(point,))
    deals = hub.deals_create(3)
    hub.deals_win(deals)
    hub.jobs_finish(hub.jobs(deals))
    hub.fault_awaited(point, scenario=scenario, deals=deals)
    # 1. While the hub recovers from the kill, Xero answers 503 to everything, and one
    #    more job finishes; every invoice run ends up waiting on one review item.
    hub.xero.store.faults = {"status": 503}
    later = hub.deals_create(1)
    hub.deals_win(later)
    jobs = hub.jobs(later)
    hub.jobs_finish(jobs)
    item = hub.until(lambda: waiting_on_xero(jobs), "the runs to wait on 'Xero is not answering'")
    # 2. Xero is back; staff press Retry.
    hub.xero.store.faults = {}
    ended = time.monotonic()
    if item:
        hub.staff_retry(item)
    row = hub.score(scenario, deals=deals + later, finished=True, since=ended)
    assert row.clean, row.explain()


def test_pool_processes_killed_twice_while_deals_are_won_and_invoiced(fault_hub):
    hub = fault_hub.start()
    deals = hub.deals_create(12)
    hub.deals_win(deals)
    hub.until(lambda: Job.objects.count() >= 4, "a third of the jobs")
    first = hub.worker_children_kill()
    hub.jobs_finish(hub.jobs(deals))
    hub.until(lambda: Job.objects.exclude(invoice_number="").count() >= 4, "a third invoiced")
    second = hub.worker_children_kill()
    ended = time.monotonic()
    row = hub.score(
        f"{len(first)}+{len(second)} pool processes SIGKILLed while 12 deals are won and invoiced",
        deals=deals,
        finished=True,
        since=ended,
    )
    assert first and second and row.clean, row.explain()


CREDIT_POINTS = [
    "after_call:xero:create_credit_notes",
    "after_call:xero:create_credit_note_allocation",
    "after_commit:credit_and_redraft",
]


@pytest.mark.parametrize("point", CREDIT_POINTS)
def test_killed_while_crediting_an_approved_invoice_leaves_one_credit_and_one_new_draft(
    fault_hub, point
):
    """Staff credit approved invoices whose jobs changed; a pool process dies right after
    Xero made the credit note (or its allocation, or once the run committed): each invoice
    still gets one credit note, one allocation, and its job one new draft."""
    scenario = f"kill at {point} while crediting and redrafting"
    hub = fault_hub.start(fault_points=(point,))
    deals = hub.deals_create(2)
    hub.deals_win(deals)
    jobs = hub.jobs(deals)
    hub.jobs_finish(jobs)
    numbers = [job.number for job in jobs]
    hub.until(
        lambda: not Job.objects.filter(number__in=numbers, invoice_number="").exists(),
        "both jobs invoiced",
    )
    invoices = dict(zip(numbers, hub.invoices_approve(jobs), strict=True))
    hub.until(
        lambda: set(Job.objects.filter(number__in=numbers).values_list("invoice_status", flat=True))
        == {"awaiting_payment"},
        "the approvals to reach the jobs",
    )
    hub.quotes_change(jobs)
    hub.items_resolve(jobs, "quote_changed", "apply_to_job")
    hub.items_resolve(jobs, "approved_invoice_changed", "credit_and_redraft")
    hub.fault_awaited(point, scenario=scenario, deals=deals)
    row = hub.score(scenario, deals=deals, finished=True, credited=invoices)
    assert row.clean, row.explain()
