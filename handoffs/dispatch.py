"""Dispatching: events stored in the inbox are handed to the workers.

A webhook request only stores its delivery and answers; it never talks to the broker, so
a broker outage cannot turn a stored delivery into an error answer. The dispatcher
process (handoffs/dispatcher.py) takes the stored events no worker has been given, oldest
first, with SKIP LOCKED so that several dispatchers share the work. PostgreSQL's NOTIFY
on CHANNEL wakes it as soon as a delivery commits. PostgreSQL holds one lock across the
commit of every transaction that notifies, so deliveries that each notified would commit
one after another, each waiting for its own disk flush, instead of sharing one: a web
process notifies at most every NOTIFY_EVERY_SECONDS, and a delivery it stored without
notifying is taken by the pass the next wake-up starts, at the latest after a second.
"""

import time

from django.db import connection, transaction
from django.utils import timezone

from handoffs.enqueue import events_enqueue
from handoffs.models import InboundEvent

CHANNEL = "hub_inbox"
BATCH = 500
# Events handed to one task: a burst (a month end) costs a task per 50 events, not per event.
EVENTS_PER_TASK = 50
NOTIFY_EVERY_SECONDS = 0.1
_notified_at = float("-inf")


def notify_due() -> bool:
    """Say whether this process's next new delivery should wake the dispatchers."""
    return time.monotonic() - _notified_at >= NOTIFY_EVERY_SECONDS


def notify_sent() -> None:
    """Note that this process just woke the dispatchers."""
    global _notified_at
    _notified_at = time.monotonic()


def inbox_notify() -> None:
    """Wake the dispatchers when the current transaction commits (PostgreSQL only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


def events_dispatch(*, limit: int = BATCH) -> int:
    """Hand stored events that no worker was given to the broker; return how many.

    The events are marked before they are sent (so no lock is held while the broker is
    slow); those the broker did not take are unmarked again. A worker processes an event
    once, however often it is sent.
    """
    with transaction.atomic():
        ids = list(
            InboundEvent.objects.select_for_update(skip_locked=True)
            .filter(state=InboundEvent.State.PENDING, enqueued_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        InboundEvent.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    sent = 0
    try:
        for start in range(0, len(ids), EVENTS_PER_TASK):
            chunk = ids[start : start + EVENTS_PER_TASK]
            events_enqueue(chunk)
            sent += len(chunk)
    finally:
        if sent < len(ids):
            InboundEvent.objects.filter(pk__in=ids[sent:]).update(enqueued_at=None)
    return sent
