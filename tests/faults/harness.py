"""A fault scenario's hub: real processes on the test database, a Redis of its own, the
HubSpot and Xero sandboxes, and the switches to break each of them.

The web server (gunicorn), a prefork worker, the dispatcher and beat run as subprocesses; they reach
PostgreSQL through a proxy the test controls and use a redis-server the test started.
The test process drives them as HubSpot, Xero and staff would (signed webhooks, the REST
API) and reads the database directly to measure.
"""

import json
import os
import signal
import time
import uuid
from pathlib import Path

import redis
import requests
from django.conf import settings
from django.utils import timezone

from connectors.hubspot.webhooks import delivery_key
from connectors.sandbox.hubspot.server import start_in_thread as hubspot_start
from connectors.sandbox.xero.server import start_in_thread as xero_start
from handoffs.models import HandoffRun, InboundEvent, WebhookDelivery, WorkerHeartbeat
from integration_hub.supervisor import worker_command
from operations.models import Job
from ownership.services import field_rules_defaults_load
from review_queue.models import ReviewItem
from tests.faults.processes import (
    HubProcess,
    RedisServer,
    TcpProxy,
    beat_command,
    dispatcher_command,
    free_port,
    web_command,
)
from tests.faults.scorecard import UNFINISHED, Expected, Row, score
from tests.faults.world import (
    customer_links,
    deal_create,
    post_marked,
    sessions_from,
    staff_token,
    xero_connect,
)
from tests.helpers import hubspot_event, poll, wait_for

# Short timings so recovery fits the suite's budget; the mechanisms are production's. A
# run left 'running' by a killed worker is taken back at once by its redelivered task, or
# once its lease lapses (HANDOFF_LEASE_SECONDS) by the sweeper.
TIMINGS = {
    "HANDOFF_LEASE_SECONDS": "6",
    "XERO_SETTLE_SECONDS": "5",
    "XERO_TIMEOUT_SECONDS": "3",
    "HANDOFF_BASE_BACKOFF_SECONDS": "1",
    "HANDOFF_MAX_BACKOFF_SECONDS": "4",
    "HANDOFF_MAX_ATTEMPTS": "3",
    "XERO_INVOICE_GATHER_SECONDS": "1",
    "SWEEP_EVERY_SECONDS": "2",
    "SWEEP_AFTER_SECONDS": "3",
    "CELERY_TASK_SOFT_TIME_LIMIT": "6",
    "CELERY_TASK_TIME_LIMIT": "7",
    "HUBSPOT_TIMEOUT_SECONDS": "2",
    "DATABASE_CONN_MAX_AGE": "60",
    # Xero's minute limit is not what these scenarios test (the vendor 429 scenarios do):
    # raised so tens of new customers can be invoiced within a scenario.
    "XERO_MINUTE_LIMIT": "600",
}


class FaultHub:
    """One scenario's hub; `start` it, break it, drive it, then `score` it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: dict[str, HubProcess] = {}
        self.redis: RedisServer | None = None
        self.db: TcpProxy | None = None
        self.hubspot = self.xero = None
        self.scenario_end()
        self.web_url = ""
        self.token = ""

    # Starting and stopping -----------------------------------------------------------

    def start(self, *, fault_points: tuple[str, ...] = ()) -> "FaultHub":
        """Start Redis, the proxy, the sandboxes and the hub's processes; wait until ready.

        `fault_points` names kill points (integration_hub/faults.py) the worker fires once.
        """
        field_rules_defaults_load()  # a transactional test's flush emptied them
        self.token = staff_token()
        self.redis = RedisServer(self.folder)
        self.db = TcpProxy(int(settings.DATABASES["default"]["PORT"] or 5432))
        web_port = free_port()
        self.web_url = f"http://127.0.0.1:{web_port}"
        self.hubspot = hubspot_start(
            port=0,
            access_token=settings.HUBSPOT_ACCESS_TOKEN,
            client_secret=settings.HUBSPOT_CLIENT_SECRET,
            webhook_url=f"{self.web_url}/webhooks/hubspot/",
            seed="empty",
        )
        self.xero = xero_start(
            minute_limit=int(TIMINGS["XERO_MINUTE_LIMIT"]),
            client_id=settings.XERO_CLIENT_ID,
            client_secret=settings.XERO_CLIENT_SECRET,
            webhook_url=f"{self.web_url}/webhooks/xero/",
            webhook_key=settings.XERO_WEBHOOK_KEY,
        )
        xero_connect(self.xero.store)
        env = self.environment(fault_points)
        self.processes = {
            "web": HubProcess("web", web_command(web_port), env, self.folder),
            "worker": HubProcess("worker", worker_command(self.folder.name), env, self.folder),
            "dispatcher": HubProcess("dispatcher", dispatcher_command(), env, self.folder),
            "beat": HubProcess("beat", beat_command(self.folder), env, self.folder),
        }
        for process in self.processes.values():
            process.start()
        wait_for(self._ready, what="the hub's web server and worker", timeout=60)
        return self

    def environment(self, fault_points: tuple[str, ...]) -> dict[str, str]:
        """The hub's processes' environment: the test database through the proxy, this
        test's Redis, the sandboxes, short timings and the kill points."""
        db = settings.DATABASES["default"]
        return (
            os.environ
            | TIMINGS
            | {
                "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{self.db.port}/{db['NAME']}",
                "CELERY_BROKER_URL": self.redis.url(0),
                "REDIS_URL": self.redis.url(1),
                "HUBSPOT_API_BASE_URL": self.hubspot.url,
                "XERO_API_BASE_URL": f"{self.xero.url}/api.xro/2.0",
                "XERO_TOKEN_URL": f"{self.xero.url}/connect/token",
                "XERO_IDENTITY_URL": self.xero.url,
                "HUB_VAR_DIR": str(self.folder),
                "HUB_FAULT_POINTS": ",".join(fault_points),
                "HUB_FAULT_ONCE_DIR": str(self.folder),
            }
        )

    def _ready(self) -> bool:
        for process in self.processes.values():
            assert process.alive(), f"{process.name} exited; see {process.log_path}"
        try:
            requests.get(f"{self.web_url}/healthz", timeout=2)
        except requests.RequestException:
            return False
        return WorkerHeartbeat.objects.exists()

    def stop(self) -> None:
        """Stop everything the scenario started, by pid, before the database is emptied.
        The hub's processes are killed: what they were doing no longer matters."""
        for process in self.processes.values():
            process.kill()
        for sandbox in (self.hubspot, self.xero):
            if sandbox:
                sandbox.stop()
        if self.db:
            self.db.stop()
        if self.redis:
            self.redis.stop()
        # The database is emptied next: wait until no session of the hub's processes lingers.
        if self.db:
            poll(lambda: not sessions_from(self.db.upstream_ports), timeout=15)

    @property
    def worker(self) -> HubProcess:
        return self.processes["worker"]

    # Faults ----------------------------------------------------------------------------

    def worker_children_kill(self) -> list[int]:
        """SIGKILL every pool process of the worker (found in /proc), whatever it is doing."""
        pids = self.worker.children()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def fault_fired(self, point: str) -> int | None:
        """Return the pid a kill point killed, or None if it has not fired."""
        marker = self.folder / point.replace(":", "_").replace("/", "_")
        return int(marker.read_text() or 0) if marker.exists() else None

    # Driving the hub as HubSpot, Xero and staff would ------------------------------------

    def deals_create(self, count: int) -> list[str]:
        """Create open deals in the CRM, each for a new company with two invoiceable lines."""
        store, deals = self.hubspot.store, []
        with store.lock:
            listeners, store.listeners = store.listeners, []  # set-up, not business events
            try:
                for _ in range(count):
                    deals.append(deal_create(store))
            finally:
                store.listeners = listeners
        return deals

    def deals_win(self, deals: list[str]) -> None:
        """Mark deals won in the CRM; its signed webhooks reach the hub."""
        for deal in deals:
            self.hubspot.store.update("deals", deal, {"dealstage": "closedwon"})
        self.sent += len(deals)

    def jobs(self, deals: list[str], *, timeout: float = 60) -> list[Job]:
        """Wait for each deal's job; return the jobs there are (the score tells what is
        missing)."""
        jobs = Job.objects.filter(origin_ref__in=deals)
        self.until(
            lambda: jobs.count() == len(deals),
            f"the jobs of {len(deals)} won deals",
            timeout=timeout,
        )
        return list(jobs)

    def until(self, check, what: str, *, timeout: float = 60):
        """Wait for a state the scenario goes on from and return what `check` returned; if
        it never comes, go on anyway and say so on the scorecard."""
        result = poll(check, timeout=timeout)
        if not result:
            self.notes.append(f"waited {timeout:.0f} s for {what}; went on without")
        return result

    def jobs_finish(self, jobs: list[Job]) -> None:
        """Start and finish jobs through the REST API, as the register's users do."""
        for job in jobs:
            self.api("patch", f"/api/jobs/{job.number}/", {"status": "in_progress"})
            self.api(
                "patch",
                f"/api/jobs/{job.number}/",
                {"status": "done", "completion_note": "Done and tested."},
            )
        self.sent += len(jobs)

    def contacts_move(self, jobs: list[Job]) -> dict[str, tuple[str, str]]:
        """Change the billing address of each job's customer in Xero, as its bookkeeper
        would; return {HubSpot company: (Xero contact, new street line)}."""
        from connectors.sandbox.xero import console

        tenant = next(iter(self.xero.store.organisations))
        contacts = self.xero.store.organisations[tenant].contacts
        moved = {}
        for n, job in enumerate(jobs):
            links = customer_links(job)
            street = f"{n + 1} Moved St"
            form = {
                "Name": contacts[links["xero"]]["Name"],
                "AddressLine1": street,
                "City": "Sydney",
                "Region": "NSW",
                "PostalCode": "2000",
            }
            console.act(self.xero.store, [tenant, "contacts", links["xero"], "edit"], form)
            moved[links["hubspot"]] = (links["xero"], street)
        self.sent += len(jobs)
        return moved

    def phones_change(self, jobs: list[Job]) -> dict[str, str]:
        """Change the phone of each job's customer in HubSpot, which owns it (its webhook
        follows); return {Xero contact: new phone}."""
        phoned = {}
        for n, job in enumerate(jobs):
            links = customer_links(job)
            phone = f"02 9{self.sent + n:03d} 4321"
            self.hubspot.store.update("companies", links["hubspot"], {"phone": phone})
            phoned[links["xero"]] = phone
        self.sent += len(jobs)
        return phoned

    def invoices_pay(self, jobs: list[Job]) -> list[str]:
        """Approve each job's invoice in Xero and record its full payment, as the bookkeeper
        would (Xero's webhooks follow); return the invoice ids."""
        return self._bookkeeper(jobs, pay=True)

    def invoices_approve(self, jobs: list[Job]) -> list[str]:
        """Approve each job's invoice in Xero (Xero's webhooks follow); return the ids."""
        return self._bookkeeper(jobs, pay=False)

    def _bookkeeper(self, jobs: list[Job], *, pay: bool) -> list[str]:
        from connectors.sandbox.xero import console

        tenant = next(iter(self.xero.store.organisations))
        invoices = {i["Reference"]: i for i in self.xero_invoices()}
        done = []
        for job in jobs:
            invoice = invoices[job.number]
            path = [tenant, "invoices", invoice["InvoiceID"]]
            console.act(self.xero.store, [*path, "approve"], {})
            if pay:
                console.act(self.xero.store, [*path, "pay"], {"amount": str(invoice["AmountDue"])})
            done.append(invoice["InvoiceID"])
        self.sent += (2 if pay else 1) * len(jobs)
        return done

    def quotes_change(self, jobs: list[Job]) -> None:
        """A salesperson adds an hour of labour to each job's deal in the CRM (its webhook
        follows); the hub asks staff whether to apply it to the job."""
        store = self.hubspot.store
        for job in jobs:
            amount = 0.0
            for line_id in store.associated_ids("deals", job.origin_ref, "line_items"):
                line = dict(store.get("line_items", line_id)["properties"])
                if line["hs_sku"] == "LABOUR-HR":
                    line["quantity"] = str(float(line["quantity"]) + 1)
                    changed = {"quantity": line["quantity"]}
                    store.update("line_items", line_id, changed, notify=False)
                amount += float(line["quantity"]) * float(line["price"])
            changed = {"amount": f"{amount:.2f}"}
            store.update("deals", job.origin_ref, changed, change_source="CRM_UI")
        self.sent += len(jobs)

    def items_resolve(self, jobs: list[Job], kind: str, action: str) -> None:
        """Wait for each job's open item of `kind`, then resolve it with `action` as staff."""
        for job in jobs:
            item = self.until(
                lambda job=job: ReviewItem.objects.filter(
                    kind=kind, status="open", record_ref__in=(job.number, job.origin_ref)
                ).first(),
                f"the {kind} item of {job.number}",
            )
            if item:
                self.api("post", f"/api/review-items/{item.pk}/resolve/", {"action": action})
                self.sent += 1

    def xero_post(self, events: list[tuple[str, str, str]]) -> int:
        """POST one signed Xero delivery of INVOICE events: (invoice id, type, UTC time)."""
        tenant = next(iter(self.xero.store.organisations))
        batch = [
            {
                "resourceUrl": f"{self.xero.url}/api.xro/2.0/Invoices/{invoice}",
                "resourceId": invoice,
                "eventDateUtc": at,
                "eventType": kind,
                "eventCategory": "INVOICE",
                "tenantId": tenant,
                "tenantType": "ORGANISATION",
                "_sequence": n,
            }
            for n, (invoice, kind, at) in enumerate(events, start=1)
        ]
        body, headers = self.xero.sender.request(batch, 0)
        self.sent += len(events)
        url = f"{self.web_url}/webhooks/xero/"
        return requests.post(url, data=body, headers=headers, timeout=5).status_code

    def idle(self) -> bool:
        """Whether the hub has started work and has none in hand now."""
        runs = HandoffRun.objects
        return runs.exists() and not (
            runs.filter(state__in=UNFINISHED).exists()
            or InboundEvent.objects.filter(state=InboundEvent.State.PENDING).exists()
        )

    def fault_awaited(self, point: str, *, scenario: str, deals: list[str]) -> int:
        """Wait for a kill point to fire; if the hub went idle without it, score the scenario
        with that note and fail: a fault that never happened proves nothing."""
        fired = poll(lambda: self.fault_fired(point) or self.idle(), timeout=45)
        if not self.fault_fired(point):
            note = f"the kill point {point} never fired ({'hub idle' if fired else 'timeout'})"
            self.score(scenario, deals=deals, finished=True, notes=[note])
            raise AssertionError(f"{scenario}: {note}; is it wired in?")
        return self.fault_fired(point)

    def hubspot_post(self, events: list[dict], *, retries: int = 10) -> int:
        """POST one signed HubSpot delivery; retry an error or a timeout (5 s) as HubSpot
        does. Return the first answer's status (0 for no answer in time)."""
        body = json.dumps(events).encode()
        url = f"{self.web_url}/webhooks/hubspot/"
        record = {"events": events, "statuses": [], "marks": []}
        self.posted.append(record)
        self.sent += len(events)
        for attempt in range(retries + 1):
            mark = uuid.uuid4().hex  # each attempt's own, to tell which one the hub stored
            record["marks"].append(mark)
            record["statuses"].append(post_marked(url, body, mark))
            if 200 <= record["statuses"][-1] < 300:
                break
            time.sleep(min(0.5 * 2**attempt, 4))
        return record["statuses"][0]

    def deals_won_quietly(self, deals: list[str]) -> list[dict]:
        """Mark deals won in the CRM without its webhooks; return the events HubSpot would
        have sent, for the scenario to deliver its own way."""
        for deal in deals:
            self.hubspot.store.update("deals", deal, {"dealstage": "closedwon"}, notify=False)
        return [hubspot_event(deal, event_id=n) for n, deal in enumerate(deals)]

    def deal_event(self, deal: str, *, event_id: int, stage: str, **extra) -> dict:
        """A deal-stage change in HubSpot's webhook shape."""
        return hubspot_event(deal, stage=stage, event_id=event_id, **extra)

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """Call the hub's REST API as the staff user."""
        response = requests.request(
            method,
            f"{self.web_url}{path}",
            json=body,
            timeout=30,
            headers={"Authorization": f"Token {self.token}"},
        )
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else {}

    def staff_retry(self, item: ReviewItem) -> None:
        """Press Retry on a review item."""
        self.api("post", f"/api/review-items/{item.pk}/resolve/", {"action": "retry"})
        self.sent += 1

    def staff_replay(self, run: HandoffRun) -> None:
        """Replay a finished run."""
        self.api("post", f"/api/runs/{run.pk}/replay/")
        self.sent += 1

    # Measuring -------------------------------------------------------------------------

    def scenario_end(self) -> None:
        """Start counting afresh: the next score measures only what follows, and the
        sandboxes answer normally again."""
        self.sent = 0  # events sent: webhook events, staff and register actions
        self.notes: list[str] = []  # what the scenario saw on its way
        self.posted: list[dict] = []  # HubSpot deliveries posted directly, with their answers
        self.scenario_began = timezone.now()
        if self.hubspot:
            self.hubspot.store.clear_faults()
        if self.xero:
            self.xero.store.faults, self.xero.store.call_faults = {}, []
            self._xero_minute_forget()

    def _xero_minute_forget(self) -> None:
        """Each scenario starts with Xero's minute unused, at Xero and in the hub's limiter."""
        for org in self.xero.store.organisations.values():
            org.calls.clear()
        if self.redis and self.redis.process.poll() is None:
            shared = redis.Redis.from_url(self.redis.url(1))
            for key in shared.scan_iter("xero:*"):
                shared.delete(key)

    def score(
        self,
        scenario: str,
        *,
        deals: list[str],
        finished: bool = False,
        moved: dict[str, tuple[str, str]] | None = None,
        paid: list[str] = (),
        phoned: dict[str, str] | None = None,
        credited: dict[str, str] | None = None,
        since: float | None = None,
        timeout: float = 90,
        notes: list[str] = (),
    ) -> Row:
        """Wait for the hub to be quiet again, measure, and add the scenario's row to the
        scorecard. `since` is when the fault ended (time.monotonic()); now by default."""
        expected = Expected(
            deals=deals,
            finished=finished,
            moved=moved or {},
            paid=list(paid),
            phoned=phoned or {},
            credited=credited or {},
        )
        since = time.monotonic() if since is None else since
        notes = [*self.notes, *notes]
        return score(self, scenario, expected, since=since, timeout=timeout, notes=notes)

    # Reading ---------------------------------------------------------------------------

    def xero_invoices(self) -> list[dict]:
        return [i for org in self.xero.store.organisations.values() for i in org.invoices.values()]

    def xero_invoice(self, invoice_id: str) -> dict:
        return next(i for i in self.xero_invoices() if i["InvoiceID"] == invoice_id)

    def xero_credit_notes(self, invoice_number: str) -> list[dict]:
        """The credit notes the hub made for an invoice (by their Reference)."""
        from connectors.xero.credits import reference_of

        reference = reference_of(invoice_number)
        return [
            note
            for org in self.xero.store.organisations.values()
            for note in org.credit_notes.values()
            if note.get("Reference") == reference
        ]

    def xero_contact(self, contact_id: str) -> dict:
        return next(c for c in self.xero_contacts() if c["ContactID"] == contact_id)

    def xero_contacts(self) -> list[dict]:
        return [c for org in self.xero.store.organisations.values() for c in org.contacts.values()]

    def stored_but_refused(self) -> list[dict]:
        """Deliveries the hub answered with an error (or no answer in time) although that
        very request stored them."""
        refused = [
            (post, mark)
            for post in self.posted
            for mark, status in zip(post["marks"], post["statuses"], strict=True)
            if not 200 <= status < 300
        ]
        return [
            post
            for post, mark in refused
            if WebhookDelivery.objects.filter(**{"headers__X-Fault-Mark": mark}).exists()
        ]

    def not_stored(self) -> list[str]:
        """Events posted directly that the hub never stored, however often they were sent."""
        keys = {delivery_key(e) for p in self.posted for e in p["events"]}
        stored = set(
            InboundEvent.objects.filter(source="hubspot", delivery_key__in=keys).values_list(
                "delivery_key", flat=True
            )
        )
        return sorted(keys - stored)
