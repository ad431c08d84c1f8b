"""The demo's broker: how long a task waits between being sent and being run.

Run: .venv/bin/python bench/demo_broker.py   (demo settings: SQLite and the demo broker in a
fresh temporary folder, one worker started as Procfile.demo starts it). Each hop is one
stored event sent to `process_event`; its latency is the event's processed_at (written by
the worker) minus the moment it was sent. 20 hops one after another (each waits for the
last), then a burst of 20 sent at once. Targets (what the README promises, with room for
a busy machine): a hop's median under 250 ms and p95 under 500 ms, the burst done in 2 s;
it exits 1 on a miss.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["HUB_DEMO"] = "1"
os.environ.setdefault("HUB_VAR_DIR", tempfile.mkdtemp(prefix="hub-demo-broker-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")

from figures import Figure, median, p95, report  # noqa: E402

from integration_hub.supervisor import worker_command  # noqa: E402

HOPS, TIMEOUT = 20, 120


def worker_start(var: Path) -> subprocess.Popen:
    """Start the demo's worker, as Procfile.demo does; wait for its first heartbeat."""
    from handoffs.models import WorkerHeartbeat

    log = open(var / "worker.log", "ab")  # noqa: SIM115 (closed with the process)
    worker = subprocess.Popen(
        worker_command(f"bench-demo-{os.getpid()}", concurrency=2),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + TIMEOUT
    while not WorkerHeartbeat.objects.exists():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"The worker did not start; see {var / 'worker.log'}")
        time.sleep(0.05)
    return worker


def send(count: int) -> list[tuple[int, object]]:
    """Store `count` events no handoff listens to and send each to a worker."""
    from django.utils import timezone

    from handoffs.enqueue import event_enqueue
    from handoffs.models import InboundEvent

    stamp = time.time_ns()
    events = [
        InboundEvent.objects.create(
            source="bench", delivery_key=f"{stamp}-{n}", event_type="bench.hop", payload={}
        )
        for n in range(count)
    ]
    sent = []
    for event in events:
        sent.append((event.pk, timezone.now()))
        event_enqueue(event.pk)
    return sent


def latencies(sent: list[tuple[int, object]]) -> list[float]:
    """Wait until the worker processed every sent event; return each one's wait in seconds."""
    from handoffs.models import InboundEvent

    ids = [pk for pk, _ in sent]
    deadline = time.monotonic() + TIMEOUT
    while InboundEvent.objects.filter(pk__in=ids, processed_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise SystemExit("Gave up waiting for the worker.")
        time.sleep(0.01)
    done = dict(InboundEvent.objects.filter(pk__in=ids).values_list("pk", "processed_at"))
    return [(done[pk] - at).total_seconds() for pk, at in sent]


def figures(name: str, waits: list[float], wall: float) -> list[Figure]:
    """A run's median and p95 wait, and how long until all were done."""
    waits_ms = [wait * 1000 for wait in waits]
    return [
        Figure(f"{name}: median wait", median(waits_ms), 250),
        Figure(f"{name}: p95 wait", p95(waits_ms), 500),
        Figure(f"{name}: all done", wall, 2 if "burst" in name else HOPS, unit="s"),
    ]


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    var = Path(settings.VAR_DIR)
    transport = getattr(settings, "CELERY_BROKER_TRANSPORT", "")
    print(
        f"Broker {settings.CELERY_BROKER_URL} {transport}, prefetch "
        f"{settings.CELERY_WORKER_PREFETCH_MULTIPLIER}, folder {var}"
    )
    worker = worker_start(var)
    try:
        one_by_one, started = [], time.monotonic()
        for _ in range(HOPS):
            one_by_one += latencies(send(1))
        measured = figures(f"{HOPS} hops one by one", one_by_one, time.monotonic() - started)
        started = time.monotonic()
        burst = latencies(send(HOPS))
        measured += figures(f"a burst of {HOPS}", burst, time.monotonic() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return report(measured)


if __name__ == "__main__":
    sys.exit(main())
