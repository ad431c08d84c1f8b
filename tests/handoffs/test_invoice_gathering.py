"""Jobs finished together share one task and go to Xero 50 invoices a request; a lone job
is not held past the gather window (handoffs/gathering.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.base import BusinessEvent
from handoffs import gathering
from handoffs import runs as handoff_runs
from handoffs.models import HandoffRun
from handoffs.registry import handoff_get
from handoffs.runs import handoff_run_execute, handoff_run_start
from operations.models import Job
from tests.operations.factories import CustomerFactory, JobFactory, JobLineFactory
from tests.xero_helpers import connect_xero, xero_invoices, xero_org

INVOICE = "job_done_to_invoice"


@pytest.fixture
def asked(monkeypatch) -> list[tuple[int, float | None]]:
    """The invoice runs' tasks the hub asks for (run, countdown), kept here instead of sent:
    the test executes them itself. Other handoffs' tasks go to the worker."""
    tasks: list[tuple[int, float | None]] = []
    send = handoff_runs.run_enqueue

    def keep(run_id: int, *, queue: str, countdown: float | None = None) -> None:
        if HandoffRun.objects.filter(pk=run_id, handoff=INVOICE).exists():
            tasks.append((run_id, countdown))
        else:
            send(run_id, queue=queue, countdown=countdown)

    monkeypatch.setattr(gathering, "run_enqueue", keep)
    monkeypatch.setattr(handoff_runs, "run_enqueue", keep)
    return tasks


def finished_jobs(count: int) -> list[Job]:
    """Finished jobs of one customer (one contact to find or make in Xero)."""
    customer = CustomerFactory()
    jobs = [
        JobFactory(customer=customer, status=Job.Status.DONE, number=f"J-{7000 + n}")
        for n in range(count)
    ]
    for job in jobs:
        JobLineFactory(job=job)
    return jobs


def started(jobs: list[Job]) -> list[HandoffRun]:
    """Start each job's invoice run, as each job's completion reaching the hub does."""
    handoff = handoff_get(INVOICE)
    return [
        handoff_run_start(
            handoff=handoff,
            happened=BusinessEvent("job.completed", "operations", job.number, {}),
        )[0]
        for job in jobs
    ]


def arrived(runs: list[HandoffRun], *, seconds_ago: float) -> None:
    HandoffRun.objects.filter(pk__in=[r.pk for r in runs]).update(
        created_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def test_sixty_jobs_finished_together_go_in_two_requests_of_50_and_10(hub, asked):
    connect_xero(hub)
    jobs = finished_jobs(60)
    runs = started(jobs)
    window = handoff_get(INVOICE).gather_seconds
    assert asked == [(runs[0].pk, window)]  # one task for them all, after the window
    arrived(runs, seconds_ago=1)  # no more arriving: the batch goes when its task comes
    handoff_run_execute(run_id=runs[0].pk)
    org = xero_org(hub)
    assert org.requests["PUT /Invoices"] == 1 and len(xero_invoices(hub)) == 50
    assert asked[1:] == [(runs[50].pk, None)]  # a full batch: the ten left go at once
    # A task whose own run went in an earlier batch takes the runs gathered behind it.
    handoff_run_execute(run_id=runs[0].pk)
    assert handoff_run_execute(run_id=runs[50].pk) is None  # nothing left for it
    assert org.requests["PUT /Invoices"] == 2
    assert sorted(i["Reference"] for i in xero_invoices(hub)) == sorted(j.number for j in jobs)
    done = HandoffRun.objects.filter(handoff=INVOICE, state=HandoffRun.State.DONE)
    assert done.count() == 60
    assert Job.objects.filter(status=Job.Status.INVOICED).count() == 60


@pytest.mark.django_db
def test_a_lone_job_waits_the_window_and_no_longer(asked, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (run,) = started(finished_jobs(1))
    handoff = handoff_get(INVOICE)
    assert asked == [(run.pk, handoff.gather_seconds)]
    assert not gathering.gather_hold(run.pk, handoff)  # when its task comes, it goes
    assert asked == [(run.pk, handoff.gather_seconds)]


@pytest.mark.django_db
def test_a_batch_is_held_while_jobs_still_arrive_and_never_past_its_limit(
    asked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, second = started(finished_jobs(2))
    handoff = handoff_get(INVOICE)
    assert asked == [(first.pk, handoff.gather_seconds)]  # the second counts on the first's
    # The second just arrived: its task comes again in half a window.
    HandoffRun.objects.filter(pk=second.pk).update(created_at=timezone.now() + timedelta(seconds=1))
    assert gathering.gather_hold(first.pk, handoff)
    assert asked[-1] == (first.pk, handoff.gather_seconds / 2)
    # Still arriving, but the first has waited its most: they go.
    arrived([first], seconds_ago=handoff.gather_seconds * gathering.GATHER_MOST)
    assert not gathering.gather_hold(first.pk, handoff)
    # No longer arriving: they go too.
    arrived([first, second], seconds_ago=handoff.gather_seconds)
    assert not gathering.gather_hold(first.pk, handoff)
    assert len(asked) == 2
