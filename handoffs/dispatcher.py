"""The dispatcher process (`manage.py dispatch`): each pass forwards operations' outbox into
the inbox, then hands the inbox's new events to the workers (handoffs/dispatch.py).

PostgreSQL's NOTIFY wakes it as soon as a delivery or an outbox event commits (the
inbox's and the outbox's channels); it also looks every IDLE_SECONDS (the demo's SQLite
has no NOTIFY). While the broker is down the events stay in the inbox and it tries again;
the sweeper is the net under it all, for the outbox too.
"""

import logging
import threading
import time

import psycopg
from django.db import close_old_connections, connection

from connectors.operations.events import CHANNEL as OUTBOX_CHANNEL
from handoffs.dispatch import BATCH, CHANNEL, events_dispatch
from handoffs.inbox import operations_events_forward

logger = logging.getLogger(__name__)
IDLE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 5.0
# While events keep coming, a pass at most this often.
BUSY_PASS_SECONDS = 0.1


class _Wakeup:
    """LISTEN on the inbox's and the outbox's channels over a connection of its own; wait
    for a NOTIFY."""

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
            self.conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
        for _ in self.conn.notifies(timeout=seconds, stop_after=1):
            break

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def dispatch_pass() -> tuple[int, int]:
    """Forward the outbox into the inbox, then hand new events on; return both counts."""
    return operations_events_forward(), events_dispatch()


def dispatch_forever(*, stop: threading.Event) -> None:
    """Dispatch until `stop` is set; a broker or database outage pauses it, never ends it."""
    wakeup, pause = _Wakeup(), 0.0
    while not stop.is_set():
        try:
            close_old_connections()
            forwarded, sent = dispatch_pass()
            pause = 0.0
            if sent:
                # Busy: the events of the next moment go together, a task for up to 50
                # (a lone event, after a quiet moment, still goes at once).
                stop.wait(BUSY_PASS_SECONDS)
            if sent < BATCH and forwarded < BATCH:
                wakeup.wait(IDLE_SECONDS)
        except Exception as error:  # broker or database down: wait, then try again
            pause = min(max(pause * 2, 0.5), MAX_PAUSE_SECONDS)
            logger.warning("Dispatching paused for %.1f s: %s", pause, error)
            wakeup.close()
            connection.close()
            stop.wait(pause)
    wakeup.close()
