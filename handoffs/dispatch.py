"""The dispatcher: events stored in the inbox are handed to the workers.

A webhook request only stores its delivery and answers; it never talks to the broker, so
a broker outage cannot turn a stored delivery into an error answer. The dispatcher
process (`manage.py dispatch`) takes the stored events no worker has been given, oldest
first, with SKIP LOCKED so that several dispatchers share the work. PostgreSQL's NOTIFY
wakes it as soon as a delivery commits; it also looks every second (the demo's SQLite has
no NOTIFY). PostgreSQL holds one lock across the commit of every transaction that
notifies, so deliveries that each notified would commit one after another, each waiting
for its own disk flush, instead of sharing one: a web process notifies at most every
NOTIFY_EVERY_SECONDS, and a delivery it stored without notifying is taken by the pass the
next wake-up starts, at the latest after IDLE_SECONDS. While the broker is down the events
stay in the inbox and it tries again; the sweeper is the net under it all.
"""

import logging
import threading
import time

import psycopg
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from handoffs.enqueue import events_enqueue
from handoffs.models import InboundEvent

logger = logging.getLogger(__name__)
CHANNEL = "hub_inbox"
BATCH = 500
# Events handed to one task: a burst (a month end) costs a task per 50 events, not per event.
EVENTS_PER_TASK = 50
IDLE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 5.0
NOTIFY_EVERY_SECONDS = 0.1
# While events keep coming, a pass at most this often.
BUSY_PASS_SECONDS = 0.1
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


class _Wakeup:
    """LISTEN on the inbox channel over a connection of its own; wait for a NOTIFY."""

    def __init__(self) -> None:
        self.conn: psycopg.Connection | None = None

    def wait(self, seconds: float) -> None:
        if connection.vendor != "postgresql":
            time.sleep(seconds)
            return
        if self.conn is None or self.conn.closed:
            params = {
                name: value
                for name, value in connection.get_connection_params().items()
                if name not in ("cursor_factory", "context", "prepare_threshold")
            }
            self.conn = psycopg.connect(**params, autocommit=True)
            self.conn.execute(f"LISTEN {CHANNEL}")
        for _ in self.conn.notifies(timeout=seconds, stop_after=1):
            break

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def dispatch_forever(*, stop: threading.Event) -> None:
    """Dispatch until `stop` is set; a broker or database outage pauses it, never ends it."""
    wakeup, pause = _Wakeup(), 0.0
    while not stop.is_set():
        try:
            close_old_connections()
            sent = events_dispatch()
            pause = 0.0
            if sent:
                # Busy: the events of the next moment go together, a task for up to 50
                # (a lone event, after a quiet moment, still goes at once).
                stop.wait(BUSY_PASS_SECONDS)
            if sent < BATCH:
                wakeup.wait(IDLE_SECONDS)
        except Exception as error:  # broker or database down: wait, then try again
            pause = min(max(pause * 2, 0.5), MAX_PAUSE_SECONDS)
            logger.warning("Dispatching paused for %.1f s: %s", pause, error)
            wakeup.close()
            connection.close()
            stop.wait(pause)
    wakeup.close()
