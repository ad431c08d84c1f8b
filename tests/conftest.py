"""Shared fixtures: a HubSpot sandbox, the live hub and a real Celery worker process."""

import os
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from handoffs.models import HandoffRun, InboundEvent
from integration_hub.celery import app
from integration_hub.supervisor import worker_command
from ownership.services import field_rules_defaults_load
from tests.faults.processes import dispatcher_command
from tests.helpers import poll, wait_for


@pytest.fixture(scope="session")
def hubspot_sandbox(live_server):
    """A HubSpot sandbox on a free loopback port, sending its webhooks to the live hub."""
    from connectors.sandbox.hubspot.server import start_in_thread

    server = start_in_thread(
        port=0,
        access_token=settings.HUBSPOT_ACCESS_TOKEN,
        client_secret=settings.HUBSPOT_CLIENT_SECRET,
        client_id=settings.HUBSPOT_CLIENT_ID,
        webhook_url=f"{live_server.url}/webhooks/hubspot/",
        seed="demo",
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def xero_sandbox(live_server):
    """A Xero sandbox on a free loopback port, sending its signed webhooks to the hub."""
    from connectors.sandbox.xero.server import start_in_thread

    server = start_in_thread(
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        webhook_url=f"{live_server.url}/webhooks/xero/",
        webhook_key=settings.XERO_WEBHOOK_KEY,
    )
    yield server
    server.stop()


def worker_environment(sandbox_url: str, xero_url: str) -> dict[str, str]:
    """Return the environment for a worker that uses the test database and the sandboxes."""
    db = settings.DATABASES["default"]
    return os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "HUBSPOT_API_BASE_URL": sandbox_url,
        "XERO_API_BASE_URL": f"{xero_url}/api.xro/2.0",
        "XERO_TOKEN_URL": f"{xero_url}/connect/token",
        "XERO_IDENTITY_URL": xero_url,
        "HANDOFF_BASE_BACKOFF_SECONDS": "1",
        "XERO_INVOICE_GATHER_SECONDS": "1",
        "HANDOFF_MAX_ATTEMPTS": "3",
    }


def worker_start(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start a Celery worker process and wait until it answers a ping."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 (closed with the process)
    command = worker_command(f"test-{os.getpid()}-{log_path.stem}")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_for(
        lambda: process.poll() is not None or app.control.ping(timeout=0.5),
        what="the Celery worker to start",
    )
    assert process.poll() is None, f"The worker exited; see {log_path}"
    return process


def dispatcher_start(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start the dispatcher (stored inbox events to the broker) as its own process."""
    log = open(log_path, "ab")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(dispatcher_command(), env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, hubspot_sandbox, xero_sandbox):
    """A real worker process on every queue and the dispatcher, against the test database
    and the sandboxes."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    environment = worker_environment(hubspot_sandbox.url, xero_sandbox.url)
    process = worker_start(environment, settings.VAR_DIR / "worker.log")
    dispatcher = dispatcher_start(environment, settings.VAR_DIR / "dispatcher.log")
    SESSION_WORKER.append(process)
    yield process
    SESSION_WORKER.clear()
    for each in (dispatcher, process):
        each.terminate()
        each.wait(timeout=30)


@dataclass
class Hub:
    """What an end-to-end test drives: the hub's URL and the HubSpot sandbox."""

    url: str
    sandbox: object
    xero: object

    @property
    def hubspot_webhook_url(self) -> str:
        return f"{self.url}/webhooks/hubspot/"


def hub_busy() -> list[str]:
    """Say what the hub still has in hand: outbox rows not forwarded, events not processed,
    runs waiting, running or about to retry."""
    from operations.models import JobEvent

    soon = timezone.now() + timedelta(seconds=30)
    runs = HandoffRun.objects.filter(
        Q(state__in=["pending", "running"]) | Q(state="retrying", next_attempt_at__lt=soon)
    )
    events = InboundEvent.objects.filter(state="pending")
    outbox = JobEvent.objects.filter(forwarded_at__isnull=True)
    return (
        [f"run {r.pk} {r.handoff} {r.key} is {r.state}" for r in runs]
        + [f"event {e.pk} {e} is pending (enqueued {e.enqueued_at})" for e in events]
        + [f"outbox row {row.pk} {row.type} is not forwarded" for row in outbox]
    )


def hub_quiet() -> bool:
    """Return whether the worker has nothing in hand: no event or run waiting or running."""
    return not hub_busy()


def hub_settled(hub) -> bool:
    """Quiet, then no sandbox webhook left to send, then still quiet: nothing in between."""
    senders = (hub.sandbox.sender, hub.xero.sender)
    return hub_quiet() and all(s.wait_idle(timeout=0) for s in senders) and hub_quiet()


def vendor_memory_forget() -> None:
    """Forget the vendor calls earlier tests made, and all the hub keeps of what the vendors
    said (Xero's tax rates, accounts, tracking categories, currencies, contacts' payment
    terms and the length of its contact list; HubSpot's deal stages): the sandboxes are
    fresh too, and a test must not pass or fail by what an earlier one left."""
    shared = redis.Redis.from_url(settings.REDIS_URL)
    keys = [
        *shared.scan_iter("limits:*"),
        *shared.scan_iter("*:xero:*"),
        *shared.scan_iter("*:hubspot:*"),
    ]
    if keys:
        shared.delete(*keys)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test that drove the hub fails, show what the hub did: its runs and items."""
    report = yield
    # Only for the test's call: the database is closed to a failed setup or teardown.
    if report.failed and report.when == "call" and "hub" in getattr(item, "fixturenames", ()):
        from review_queue.models import ReviewItem

        runs = [
            f"  run {r.pk} {r.handoff} {r.record_ref} {r.state}: {r.summary}"
            for r in HandoffRun.objects.order_by("pk")
        ]
        items = [f"  item {i.pk} {i.kind} {i.status}: {i.title}" for i in ReviewItem.objects.all()]
        report.sections.append(("What the hub did", "\n".join(runs + items) or "nothing"))
    return report


@pytest.fixture
def hub(live_server, hubspot_sandbox, xero_sandbox, celery_worker, settings):
    """A running hub with a fresh sandbox, for tests that cross the queue.

    Afterwards it waits for webhooks in flight and the worker's work to settle, so
    nothing from one test lands in the next one's database.
    """
    # The previous transactional test's flush emptied the tables the migrations filled.
    field_rules_defaults_load()
    hubspot_sandbox.store.reset("demo")
    hubspot_sandbox.store.clear_faults()
    xero_sandbox.store.reset()
    settings.HUBSPOT_API_BASE_URL = hubspot_sandbox.url
    settings.XERO_API_BASE_URL = f"{xero_sandbox.url}/api.xro/2.0"
    settings.XERO_TOKEN_URL = f"{xero_sandbox.url}/connect/token"
    settings.XERO_IDENTITY_URL = xero_sandbox.url
    settings.XERO_AUTHORIZE_URL = f"{xero_sandbox.url}/identity/connect/authorize"
    hub = Hub(url=live_server.url, sandbox=hubspot_sandbox, xero=xero_sandbox)
    yield hub
    hubspot_sandbox.store.clear_faults()
    xero_sandbox.store.faults = {}
    # Nothing from this test may land in the next one's database: a test waits for the
    # work it started. (A run waiting on a long retry is cut off by the database flush.)
    if poll(lambda: hub_settled(hub), timeout=90) is None:
        raise AssertionError(f"The hub is still busy after the test: {hub_busy()}")


# The session's worker, once a test has started it (celery_worker): it and its dispatcher
# take whatever a transactional test commits to the inbox.
SESSION_WORKER: list = []


@pytest.fixture(autouse=True)
def inbox_taken_before_the_flush(request):
    """After a transactional test, wait until the session's dispatcher and worker are done
    with the events it stored (in the outbox or the inbox): the flush that empties the
    tables would otherwise take its locks while they hold theirs, and PostgreSQL ends one
    of them as a deadlock."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    if transactional:  # set up before this fixture, so flushed after this waits
        request.getfixturevalue("_django_db_helper")
    yield
    if SESSION_WORKER and transactional:
        from operations.models import JobEvent

        poll(
            lambda: not JobEvent.objects.filter(forwarded_at__isnull=True).exists()
            and not InboundEvent.objects.filter(state="pending").exists()
            and not HandoffRun.objects.filter(state__in=["pending", "running"]).exists(),
            timeout=60,
        )


@pytest.fixture(autouse=True)
def nothing_kept_from_earlier_tests():
    """Start each test with no webhook refusal counted, no vendor call counted against the
    hub's limits and nothing kept of what the vendors said: all of it outlives a test's
    database, and a test must pass in whatever order the workers take the files."""
    shared = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(shared.scan_iter("*webhook-refusals:*"))
    if keys:
        shared.delete(*keys)
    vendor_memory_forget()


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Serve static files without the production manifest, which only collectstatic writes."""
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }


@pytest.fixture
def office_staff(django_user_model):
    """A user in the office staff group, as the demo's staff login is."""
    from django.contrib.auth.models import Group

    from integration_hub.permissions import STAFF_GROUP

    user = django_user_model.objects.create_user("ops")
    user.groups.add(Group.objects.get_or_create(name=STAFF_GROUP)[0])
    return user
