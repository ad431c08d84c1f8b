"""Leases on handoff runs: which worker process holds a run, renewed while it works.

A worker that is killed stops renewing its lease. Any worker may then take the run back:
at once when the holder is a process on the same machine that no longer exists (a pool
child killed by the OOM killer or SIGKILL, whose task the broker hands straight to a
sibling), otherwise once the lease has lapsed (the sweeper looks every SWEEP_EVERY_SECONDS).
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from handoffs.models import HandoffAttempt, HandoffRun

logger = logging.getLogger(__name__)


def lease_holder() -> str:
    """Name this process the way a lease records it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_new() -> dict:
    """Return the fields of a fresh lease held by this process."""
    return {
        "lease": uuid.uuid4().hex,
        "lease_holder": lease_holder(),
        "lease_expires_at": timezone.now() + timedelta(seconds=settings.HANDOFF_LEASE_SECONDS),
    }


def holder_gone(holder: str) -> bool:
    """Return whether the holder is a process on this machine that no longer exists."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def lapsed() -> Q:
    """Runs marked running whose worker stopped renewing the lease."""
    return Q(state=HandoffRun.State.RUNNING, lease_expires_at__lt=timezone.now())


def attempts_lost(run_ids: list[int]) -> None:
    """Close the attempts a lost worker left open, saying what happened to them."""
    HandoffAttempt.objects.filter(
        run_id__in=run_ids, outcome=HandoffAttempt.Outcome.RUNNING
    ).update(
        outcome=HandoffAttempt.Outcome.LOST,
        finished_at=timezone.now(),
        message="The worker running this attempt stopped before it finished (killed, or its "
        "machine lost); the hub took the run back and tries again.",
    )


@contextmanager
def leases_kept(run_ids: list[int], lease: str) -> Iterator[None]:
    """Renew the lease on these runs every third of its length while the block runs."""
    stop = threading.Event()
    every = settings.HANDOFF_LEASE_SECONDS / 3

    def renew() -> None:
        try:
            while not stop.wait(every):
                until = timezone.now() + timedelta(seconds=settings.HANDOFF_LEASE_SECONDS)
                HandoffRun.objects.filter(
                    pk__in=run_ids, state=HandoffRun.State.RUNNING, lease=lease
                ).update(lease_expires_at=until)
        except Exception:  # the run goes on; at worst its lease lapses and it runs again
            logger.exception("Could not renew the lease on runs %s", run_ids)
        finally:
            connection.close()

    renewer = threading.Thread(target=renew, name="lease-renewer", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
