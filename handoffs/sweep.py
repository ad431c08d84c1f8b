"""The sweeper: work that was stored but never picked up goes back to the workers."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from handoffs.enqueue import event_enqueue, run_enqueue
from handoffs.inbox import operations_events_forward
from handoffs.models import HandoffRun, InboundEvent
from handoffs.runs import UNFINISHED

BATCH = 500


@transaction.atomic
def sweep() -> dict[str, int]:
    """Re-enqueue stale events and runs (broker down, worker killed); return the counts."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SWEEP_AFTER_SECONDS)
    events = list(
        InboundEvent.objects.select_for_update(skip_locked=True)
        .filter(state=InboundEvent.State.PENDING)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
        .values_list("pk", flat=True)[:BATCH]
    )
    InboundEvent.objects.filter(pk__in=events).update(enqueued_at=now)
    # A run still "running" after the hard time limit lost its worker.
    dead = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.SWEEP_AFTER_SECONDS)
    runs = list(
        HandoffRun.objects.select_for_update(skip_locked=True)
        .filter(
            Q(state__in=UNFINISHED, next_attempt_at__lt=stale)
            | Q(state=HandoffRun.State.RUNNING, started_at__lt=dead)
        )
        .values_list("pk", "queue")[:BATCH]
    )
    HandoffRun.objects.filter(pk__in=[pk for pk, _ in runs]).update(
        state=HandoffRun.State.RETRYING, next_attempt_at=now
    )
    for pk in events:
        transaction.on_commit(lambda pk=pk: event_enqueue(pk))
    for pk, queue in runs:
        transaction.on_commit(lambda pk=pk, queue=queue: run_enqueue(pk, queue=queue))
    return {"events": len(events), "runs": len(runs), "outbox": operations_events_forward()}
