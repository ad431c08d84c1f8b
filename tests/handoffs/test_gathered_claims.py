"""A gathered run's task takes its run even while gather_enqueue has it locked for a
moment: a task that skipped its run then left it, and the runs gathered behind it, pending
until the sweeper (seen as shared-fields runs pending for minutes, in the suite and in the
vendor-calls bench)."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from handoffs.models import HandoffRun
from handoffs.registry import handoff_get
from handoffs.runs import _batch_claim
from tests.helpers import other_connection, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_run(n: int) -> HandoffRun:
    """A shared-fields run waiting for its task, as handoff_run_start leaves it."""
    return HandoffRun.objects.create(
        handoff="shared_fields",
        key=f"test:gathered:{n}",
        queue="default",
        record_system="hubspot",
        record_type="customer",
        record_ref=str(n),
        next_attempt_at=timezone.now(),
    )


def lock_waiters(connection) -> int:
    """How many sessions on this database wait for a lock."""
    return connection.execute(
        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
        "WHERE NOT granted AND datname = current_database()"
    ).fetchone()[0]


def test_the_task_of_a_run_gather_enqueue_has_locked_takes_it_and_the_runs_behind_it():
    """The first run's task comes while a later run's gather_enqueue holds the first run
    (it found it waiting, so it sent no task of its own): the task waits for the lock and
    takes both runs, instead of finding its run locked and leaving the two to the sweeper."""
    first, behind = waiting_run(1), waiting_run(2)
    claimed: list[list[int]] = []

    def task() -> None:
        try:
            claimed.append([r.pk for r in _batch_claim(first.pk, handoff_get("shared_fields"))])
        finally:
            connection.close()

    with other_connection() as enqueue:
        # What gather_enqueue(behind) does: the earlier waiting run, locked while it looks.
        enqueue.execute(
            "SELECT id FROM handoffs_handoffrun WHERE id = %s FOR UPDATE SKIP LOCKED", [first.pk]
        )
        worker = threading.Thread(target=task)
        worker.start()
        wait_for(
            lambda: claimed or lock_waiters(enqueue),
            what="the first run's task to wait for the lock, or to give up",
        )
        enqueue.commit()
    worker.join()
    assert claimed == [[first.pk, behind.pk]], claimed
    assert set(HandoffRun.objects.values_list("state", flat=True)) == {"running"}
