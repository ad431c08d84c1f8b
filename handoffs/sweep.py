"""The sweeper: work that was stored but never picked up goes back to the workers."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from handoffs.enqueue import event_enqueue, run_enqueue
from handoffs.inbox import operations_events_forward
from handoffs.leases import lapsed
from handoffs.models import HandoffRun, InboundEvent
from handoffs.reconcile import unfinished_close
from handoffs.runs import UNFINISHED
from integration_hub.commit import after_commit

BATCH = 500


@transaction.atomic
def sweep() -> dict[str, int]:
    """Re-enqueue stale events and runs (broker down, worker killed); return the counts."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SWEEP_AFTER_SECONDS)
    # Stored long ago and never processed: the dispatcher is down, or the broker lost it.
    events = list(
        InboundEvent.objects.select_for_update(skip_locked=True)
        .filter(state=InboundEvent.State.PENDING)
        .filter(Q(enqueued_at__isnull=True, received_at__lt=stale) | Q(enqueued_at__lt=stale))
        .values_list("pk", flat=True)[:BATCH]
    )
    InboundEvent.objects.filter(pk__in=events).update(enqueued_at=now)
    # Due long ago and never run (the broker lost the task), or held by a worker that
    # stopped renewing its lease: a worker's claim takes the latter back.
    runs = list(
        HandoffRun.objects.select_for_update(skip_locked=True)
        .filter(Q(state__in=UNFINISHED, next_attempt_at__lt=stale) | lapsed())
        .values_list("pk", "queue")[:BATCH]
    )
    HandoffRun.objects.filter(pk__in=[pk for pk, _ in runs], state__in=UNFINISHED).update(
        next_attempt_at=now
    )
    for pk in events:
        after_commit(event_enqueue, pk)
    for pk, queue in runs:
        after_commit(run_enqueue, pk, queue=queue)
    return {
        "events": len(events),
        "runs": len(runs),
        "outbox": operations_events_forward(),
        "checks_unfinished": unfinished_close(),
    }
