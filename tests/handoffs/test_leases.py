"""A run whose worker is killed mid-flight is taken back at once and its attempt closed."""

import os
import signal

from handoffs.models import HandoffRun
from operations.models import Job
from tests.handoffs.test_deal_won_to_job import mark_won, open_deals_with_company
from tests.helpers import wait_for


def test_a_run_whose_worker_child_is_killed_is_taken_back_promptly(hub):
    deal = open_deals_with_company(hub, 1)[0]
    # Slow HubSpot down so the run is surely in flight when its process dies.
    hub.sandbox.store.set_fault(latency_ms=3000, count=1)
    mark_won(hub, deal)
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="deal_won_to_job", state="running").first(),
        what="the run to be in flight",
    )
    pid = int(run.lease_holder.rpartition(":")[2])
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    # No beat (so no sweeper) runs in the tests: only the task the broker hands back to a
    # sibling process can take the run back, because its holder is provably gone.
    done = wait_for(
        lambda: HandoffRun.objects.filter(pk=run.pk, state="done").first(),
        what="another worker to take the run back and finish it",
    )
    lost, finished = done.attempt_log.all()
    assert (lost.outcome, finished.outcome) == ("lost", "done")
    assert "stopped before it finished" in lost.message and lost.finished_at
    assert done.attempts == 1  # the lost attempt counts against the budget
    assert Job.objects.filter(origin_ref=deal["id"]).count() == 1
