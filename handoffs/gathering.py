"""Gathering: the new runs of a batching handoff started close together share one task.

A month end finishes many jobs at once; each job's invoice could go alone, but Xero takes
50 to a request. A new run of a handoff that gathers (`gather_seconds`) is handed to a
worker after the gather window, unless a run of the same handoff is already waiting for
its task: that task takes every due run of the handoff (up to `batch_size`), this one
too. When the task comes, it holds the batch a little longer only while more runs are
still arriving and the batch is not yet full, and never past GATHER_MOST windows from its
oldest run: a lone run waits no longer than the window. A full batch, once done, hands
the runs left behind to the next task at once.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from handoffs.enqueue import run_enqueue
from handoffs.models import HandoffRun
from handoffs.registry import Handoff

# The oldest run of a batch waits at most this many gather windows.
GATHER_MOST = 3
# Runs still arriving: the newest came within this share of the window.
STILL_ARRIVING = 0.25


def gather_enqueue(run: HandoffRun, handoff: Handoff) -> None:
    """Hand the new run to a worker after the window, unless an earlier new run of the
    same handoff is still waiting for its task (which then takes this one too).

    Called after the run's commit. Runs a worker is claiming right now are locked and
    skipped here, so a run is never left to a task that already looked.
    """
    # One older than that may have lost its task (the sweeper sends it again): not counted on.
    lately = timezone.now() - timedelta(seconds=handoff.gather_seconds * (GATHER_MOST + 1))
    with transaction.atomic():
        waiting = (
            HandoffRun.objects.select_for_update(skip_locked=True)
            .filter(
                handoff=handoff.name,
                state=HandoffRun.State.PENDING,
                pk__lt=run.pk,
                created_at__gte=lately,
            )
            .values_list("pk", flat=True)[:1]
        )
        if list(waiting):
            return
    run_enqueue(run.pk, queue=run.queue, countdown=handoff.gather_seconds)


def gather_hold(run_id: int, handoff: Handoff) -> bool:
    """Hold the batch a little longer (its task comes again after half a window): say
    whether it did. Only while this run is new, more runs are arriving, the batch is not
    full, and its oldest run has waited less than GATHER_MOST windows."""
    if not handoff.gather_seconds:
        return False
    now = timezone.now()
    window = timedelta(seconds=handoff.gather_seconds)
    due = HandoffRun.objects.filter(
        handoff=handoff.name, state=HandoffRun.State.PENDING, next_attempt_at__lte=now
    ).aggregate(
        count=Count("pk"),
        mine=Count("pk", filter=Q(pk=run_id)),
        oldest=Min("created_at"),
        newest=Max("created_at"),
    )
    hold = (
        due["mine"]
        and 1 < due["count"] < handoff.batch_size
        and now - due["oldest"] < window * GATHER_MOST
        and now - due["newest"] < window * STILL_ARRIVING
    )
    if hold:
        run_enqueue(run_id, queue=handoff.queue, countdown=handoff.gather_seconds / 2)
    return bool(hold)


def gather_next(handoff: Handoff) -> None:
    """After a full batch: hand the oldest due new run left behind to a worker now."""
    left = gather_substitute(handoff)
    if left is not None:
        run_enqueue(left, queue=handoff.queue)


def gather_substitute(handoff: Handoff) -> int | None:
    """The oldest due new run of the handoff (for a task whose own run went in another
    batch: the runs that gathered behind it count on it)."""
    return (
        HandoffRun.objects.filter(
            handoff=handoff.name,
            state=HandoffRun.State.PENDING,
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
