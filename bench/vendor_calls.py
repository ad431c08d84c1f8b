"""Vendor calls per business event: a simulated month of an ordinary trades business.

Run: .venv/bin/python bench/vendor_calls.py [DAYS]   (PostgreSQL and Redis on 127.0.0.1;
DAYS, or BENCH_DAYS, defaults to 20 working days; BENCH_SEED picks another mix). It makes
its own database (hub_bench_vendor_calls_<pid>, dropped at the end) and uses Redis db 15
for the cache and the broker (refused unless empty; only its own keys are deleted).

The hub runs as it does in production: a web server (in a thread of this process) takes
the sandboxes' signed webhooks, the dispatcher hands the stored events to a real Celery
worker (prefork, 2 processes), and the worker talks HTTP to the HubSpot and Xero
sandboxes. Each day, people do what an ordinary business does (a seeded mix): deals are
created, moved through stages that make no job, won or lost, edited; companies and
contacts are edited in HubSpot; jobs are started and finished in the register; Xero's
bookkeeper approves, edits and records payments on invoices and edits contacts. Then the
bench waits until the hub is quiet, and the next day begins.

A business event is one thing a person did (one of the above); the hub's own writes that
come back as webhooks are not counted as events, their calls are. Vendor calls are
counted by the sandboxes (every request that reached them, token requests included).
The same-run baseline: one read per webhook event delivered, what an integration that
fetches the resource for each event would make before writing anything.

Deal won → job, hub-side: each run that made a job, its attempt's wall time minus the
time spent inside its vendor calls (which the hub records), p50.

Targets: at most 2 vendor calls per business event; deal won → job hub-side p50 under
60 ms; every won deal has its job and every finished job its invoice (or a review item
saying why not). Exit 1 on a miss.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "xLGZLUIiOVlM5RLI3zE-w1pJC9mqr5-JUKmQ5VsYIsU=")
for name, value in {
    "XERO_CLIENT_ID": "bench-client",
    "XERO_CLIENT_SECRET": "bench-secret",
    "XERO_WEBHOOK_KEY": "bench-xero-webhook-key",
    "HUBSPOT_ACCESS_TOKEN": "bench-hubspot-token",
    "HUBSPOT_CLIENT_SECRET": "bench-hubspot-secret",
    "HUBSPOT_CLIENT_ID": "bench-hubspot-client",
    "HUBSPOT_APP_ID": "54321",
}.items():
    os.environ.setdefault(name, value)

from benchdb import bench_django, hub_processes, owned, xero_connect  # noqa: E402
from figures import Figure, report  # noqa: E402

sys.stdout.reconfigure(line_buffering=True)

DAYS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_DAYS", 20))
SETTLE_TIMEOUT = 120
ROOT = Path(__file__).resolve().parent.parent
rng = random.Random(int(os.environ.get("BENCH_SEED", 14)))
NOT_WON = {
    "default": [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
    ],
    "2001": ["2001001", "2001002"],
}
WON = {"default": "closedwon", "2001": "2001003"}
LOST = {"default": "closedlost", "2001": "2001004"}
ITEMS = [
    ("Labour - electrician (hours)", "LABOUR-HR", "110"),
    ("Call-out fee", "CALLOUT", "165"),
    ("RCBO safety switch", "RCBO", "95"),
    ("Three-phase circuit", "3PH-CCT", "850"),
]
# New customers' names: distinct enough that matching never takes one for another.
NAMES = [
    f"{a} {b}"
    for a in ("Acacia", "Banksia", "Coral", "Drummond", "Ellery", "Fenwick", "Galah", "Hollis")
    for b in ("Dental", "Motors", "Bakery", "Florist", "Joinery", "Vets", "Lawyers", "Cafe")
]


class Month:
    """The sandboxes, the register and what people did: the actions, by kind."""

    def __init__(self, hubspot, xero, org) -> None:
        self.hubspot, self.xero, self.org = hubspot, xero, org
        self.store = hubspot.store
        self.done: Counter[str] = Counter()
        self.won: list[str] = []

    # HubSpot ---------------------------------------------------------------------------

    def open_deals(self) -> list[dict]:
        stages = {s for stages in NOT_WON.values() for s in stages}
        return [d for d in self.store.list("deals") if d["properties"]["dealstage"] in stages]

    def deal_create(self) -> None:
        companies = self.store.list("companies")
        if rng.random() < 0.2:  # a new customer, with its contact person
            n = len(companies)
            company = self.store.create(
                "companies",
                {
                    "name": NAMES.pop(rng.randrange(len(NAMES))),
                    "domain": f"customer{n}.com.au",
                    "phone": f"02 9555 {n:04d}",
                    "address": f"{n} Bench St",
                    "city": "Sydney",
                    "state": "NSW",
                    "zip": "2000",
                    "country": "Australia",
                },
                change_source="CRM_UI",
            )
            self.store.create(
                "contacts",
                {"firstname": "Sam", "lastname": f"Lee{n}", "email": f"sam@customer{n}.com.au"},
                change_source="CRM_UI",
                associations=[("companies", company["id"])],
            )
        else:
            company = rng.choice(companies)
        people = self.store.associated_ids("companies", company["id"], "contacts")
        pipeline = "default" if rng.random() < 0.8 else "2001"
        lines = rng.sample(ITEMS, rng.randint(1, 3))
        quantities = [rng.randint(1, 6) for _ in lines]
        amount = sum(int(q) * float(p) for q, (_, _, p) in zip(quantities, lines, strict=True))
        deal = self.store.create(
            "deals",
            {
                "dealname": f"{rng.choice(['Rewire', 'Lighting', 'Switchboard'])} at "
                f"{company['properties']['name']}",
                "dealstage": NOT_WON[pipeline][0],
                "pipeline": pipeline,
                "amount": f"{amount:.2f}",
                "deal_currency_code": "AUD",
            },
            change_source="CRM_UI",
            associations=[("companies", company["id"]), *(("contacts", p) for p in people[:1])],
        )
        for (title, sku, price), quantity in zip(lines, quantities, strict=True):
            self.store.create(
                "line_items",
                {"name": title, "quantity": quantity, "price": price, "hs_sku": sku},
                change_source="CRM_UI",
                associations=[("deals", deal["id"])],
            )
        self.done["deal created"] += 1

    def deal_moved(self) -> None:
        for deal in rng.sample(self.open_deals(), min(len(self.open_deals()), 3)):
            stages = NOT_WON[deal["properties"]["pipeline"] or "default"]
            at = stages.index(deal["properties"]["dealstage"])
            if at + 1 < len(stages):
                self.store.update("deals", deal["id"], {"dealstage": stages[at + 1]})
                self.done["deal moved to a stage that makes no job"] += 1
                return

    def deal_closed(self, *, won: bool) -> None:
        ready = [
            d
            for d in self.open_deals()
            if self.store.associated_ids("deals", d["id"], "companies")
            and self.store.associated_ids("deals", d["id"], "line_items")
        ]
        if not ready:
            return
        deal = rng.choice(ready)
        pipeline = deal["properties"]["pipeline"] or "default"
        stage = (WON if won else LOST)[pipeline]
        self.store.update("deals", deal["id"], {"dealstage": stage})
        if won:
            self.won.append(deal["id"])
        self.done["deal won" if won else "deal lost"] += 1

    def deal_edited(self) -> None:
        deals = self.store.list("deals")
        deal = rng.choice(deals)
        self.store.update(
            "deals", deal["id"], {"description": f"Customer asked on day {rng.randint(1, 99)}."}
        )
        self.done["deal edited"] += 1

    def company_edited(self) -> None:
        company = rng.choice(self.store.list("companies"))
        self.store.update(
            "companies", company["id"], {"phone": f"02 9{rng.randint(0, 9999999):07d}"}
        )
        self.done["company edited in HubSpot"] += 1

    def contact_edited(self) -> None:
        contact = rng.choice(self.store.list("contacts"))
        self.store.update("contacts", contact["id"], {"phone": f"04{rng.randint(0, 99999999):08d}"})
        self.done["contact edited in HubSpot"] += 1

    # The register ------------------------------------------------------------------------

    def job_started(self) -> None:
        from operations.models import Job
        from operations.services import job_transition

        job = Job.objects.filter(status=Job.Status.SCHEDULED).order_by("pk").first()
        if job is not None:
            job_transition(job=job, to=Job.Status.IN_PROGRESS)
            self.done["job started in the register"] += 1

    def job_finished(self) -> None:
        from django.contrib.auth import get_user_model

        from operations.models import Job
        from operations.services import job_complete

        job = Job.objects.filter(status=Job.Status.IN_PROGRESS).order_by("pk").first()
        if job is not None:
            tech, _ = get_user_model().objects.get_or_create(username="bench-tech")
            job_complete(job=job, by=tech, note="Done, tested and tidied up.")
            self.done["job done in the register"] += 1

    # Xero --------------------------------------------------------------------------------

    def invoices(self, status: str) -> list[dict]:
        return [i for i in self.org.invoices.values() if i["Status"] == status]

    def invoice_approved(self) -> None:
        from connectors.sandbox.xero.store import xero_date

        drafts = self.invoices("DRAFT")
        if drafts:
            invoice = drafts[0]
            with self.xero.store.lock:
                invoice["Status"] = "AUTHORISED"
                self.xero.store.invoice_total(invoice)
                invoice["UpdatedDateUTC"] = xero_date()
            self.xero.store.changed(self.org, "INVOICE", invoice["InvoiceID"], "UPDATE")
            self.done["invoice approved in Xero"] += 1

    def invoice_edited(self) -> None:
        from connectors.sandbox.xero.store import xero_date

        approved = self.invoices("AUTHORISED")
        if approved:
            invoice = rng.choice(approved)
            with self.xero.store.lock:
                invoice["DueDate"] = xero_date(time.time() + rng.randint(7, 30) * 86400)
                invoice["UpdatedDateUTC"] = xero_date()
            self.xero.store.changed(self.org, "INVOICE", invoice["InvoiceID"], "UPDATE")
            self.done["invoice edited in Xero (due date)"] += 1

    def invoice_paid(self) -> None:
        from connectors.sandbox.xero import money

        approved = self.invoices("AUTHORISED")
        if approved:
            invoice = approved[0]
            with self.xero.store.lock:
                money.payment_apply(
                    self.xero.store, self.org, invoice, {"Amount": invoice["AmountDue"]}
                )
            self.done["invoice paid in Xero"] += 1

    def xero_contact_edited(self) -> None:
        from connectors.sandbox.xero.store import xero_date

        contacts = [c for c in self.org.contacts.values() if c.get("ContactStatus") == "ACTIVE"]
        if contacts:
            contact = rng.choice(contacts)
            with self.xero.store.lock:
                contact["Phones"] = [
                    {"PhoneType": "DEFAULT", "PhoneNumber": f"02 8{rng.randint(0, 9999999):07d}"}
                ]
                contact["UpdatedDateUTC"] = xero_date()
            self.xero.store.changed(self.org, "CONTACT", contact["ContactID"], "UPDATE")
            self.done["contact edited in Xero"] += 1

    def day(self, number: int) -> None:
        """One working day: each action at its own rate."""
        plan = [
            (self.deal_create, 2),
            (self.deal_moved, 4),
            (lambda: self.deal_closed(won=True), 1),
            (lambda: self.deal_closed(won=False), 0.5),
            (self.deal_edited, 1),
            (self.company_edited, 0.7),
            (self.contact_edited, 0.7),
            (self.job_started, 1),
            (self.job_finished, 1),
            (self.invoice_approved, 1),
            (self.invoice_edited, 0.3),
            (self.invoice_paid, 0.8),
            (self.xero_contact_edited, 0.5),
        ]
        actions = []
        for action, rate in plan:
            actions += [action] * (int(rate) + (rng.random() < rate - int(rate)))
        rng.shuffle(actions)
        for action in actions:
            action()


# The hub's processes -----------------------------------------------------------------------


def web_start():
    """The hub's web app (webhooks) on a loopback port, in a thread of this process."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    from integration_hub.wsgi import application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(application)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def processes_start(hubspot_url: str, xero_url: str) -> list[subprocess.Popen]:
    """The worker and the dispatcher, as the demo runs them."""
    return hub_processes(
        "calls",
        {
            "HUBSPOT_API_BASE_URL": hubspot_url,
            "XERO_API_BASE_URL": f"{xero_url}/api.xro/2.0",
            "XERO_TOKEN_URL": f"{xero_url}/connect/token",
            "XERO_IDENTITY_URL": xero_url,
        },
    )


def busy() -> list[str]:
    """What the hub still has in hand (the tests' hub_busy, less the detail)."""
    from datetime import timedelta

    from django.db.models import Q
    from django.utils import timezone

    from handoffs.models import HandoffRun, InboundEvent
    from operations.models import JobEvent

    soon = timezone.now() + timedelta(seconds=30)
    runs = HandoffRun.objects.filter(
        Q(state__in=["pending", "running"]) | Q(state="retrying", next_attempt_at__lt=soon)
    )
    return [
        *(f"run {r.pk} {r.handoff} {r.state}" for r in runs),
        *(
            f"event {pk}"
            for pk in InboundEvent.objects.filter(state="pending").values_list("pk", flat=True)
        ),
        *(
            f"outbox {pk}"
            for pk in JobEvent.objects.filter(forwarded_at__isnull=True).values_list(
                "pk", flat=True
            )
        ),
    ]


def settle(hubspot, xero) -> None:
    """Wait until the sandboxes sent every webhook and the hub is quiet, twice in a row."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    quiet = 0
    while time.monotonic() < deadline:
        idle = hubspot.sender.wait_idle(timeout=0) and xero.sender.wait_idle(timeout=0)
        quiet = quiet + 1 if idle and not busy() else 0
        if quiet >= 3:
            return
        time.sleep(0.3)
    raise SystemExit(f"The hub did not settle in {SETTLE_TIMEOUT} s: {busy()[:10]}")


# Counting ------------------------------------------------------------------------------------


def vendor_calls(hubspot, xero) -> Counter:
    """Every request that reached the sandboxes, by system, method and path."""
    counted = Counter({f"hubspot {k}": v for k, v in hubspot.store.requests.items()})
    for org in xero.store.organisations.values():
        counted += Counter({f"xero {k}": v for k, v in org.requests.items()})
        if org.rejected:
            counted["xero (refused, 429)"] += org.rejected
    if xero.store.token_calls:
        counted["xero POST /connect/token"] += xero.store.token_calls
    return counted


def run_kind(run) -> str:
    """The kind of event a run followed, in words."""
    kind = run.payload.get("type", "")
    if kind == "deal.stage_changed":
        stage = run.payload.get("stage")
        return f"deal.stage_changed ({'won' if stage in WON.values() else 'not won'})"
    return f"{run.record_system} {kind}" if run.event_id else f"{kind} (the hub's own follow-up)"


def calls_by_kind() -> Counter:
    """The calls the runs recorded, by the kind of event they followed: a batch's calls
    shared evenly among its runs (its attempts carry the same list)."""
    from handoffs.models import HandoffAttempt

    batches: dict[tuple, list] = {}
    for attempt in HandoffAttempt.objects.select_related("run").exclude(calls=[]):
        key = (attempt.run.handoff, json.dumps(attempt.calls, sort_keys=True))
        batches.setdefault(key, []).append(attempt.run)
    shares: Counter = Counter()
    for (handoff, calls), runs in batches.items():
        for run in runs:
            shares[run_kind(run)] += len(json.loads(calls)) / len(runs)
        for each in json.loads(calls):
            OPERATIONS[f"{handoff}: {each['system']} {each['operation']}"] += 1
    return shares


# The calls the runs recorded, by handoff and operation (filled by calls_by_kind).
OPERATIONS: Counter = Counter()


def deal_won_hub_ms() -> list[float]:
    """Each job-making deal_won_to_job attempt's wall time less its time in vendor calls."""
    from handoffs.models import HandoffAttempt

    made = HandoffAttempt.objects.filter(
        run__handoff="deal_won_to_job", outcome="done", message__startswith="Created job"
    )
    return [
        (a.finished_at - a.started_at).total_seconds() * 1000 - sum(c["ms"] for c in a.calls)
        for a in made
    ]


def main() -> int:
    owned("vendor_calls", redis={"REDIS_URL": 15, "CELERY_BROKER_URL": 15})
    bench_django()
    from django.conf import settings

    from connectors.sandbox.hubspot.server import start_in_thread as hubspot_start
    from connectors.sandbox.xero.server import start_in_thread as xero_start
    from handoffs.models import HandoffRun, InboundEvent
    from operations.models import Job
    from ownership.services import field_rules_defaults_load
    from review_queue.models import ReviewItem

    field_rules_defaults_load()
    web, hub_url = web_start()
    hubspot = hubspot_start(
        port=0,
        access_token=settings.HUBSPOT_ACCESS_TOKEN,
        client_secret=settings.HUBSPOT_CLIENT_SECRET,
        client_id=settings.HUBSPOT_CLIENT_ID,
        webhook_url=f"{hub_url}/webhooks/hubspot/",
        seed="demo",
    )
    xero = xero_start(
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        webhook_url=f"{hub_url}/webhooks/xero/",
        webhook_key=settings.XERO_WEBHOOK_KEY,
    )
    settings.HUBSPOT_API_BASE_URL = hubspot.url
    settings.XERO_API_BASE_URL = f"{xero.url}/api.xro/2.0"
    settings.XERO_TOKEN_URL = f"{xero.url}/connect/token"
    settings.XERO_IDENTITY_URL = xero.url
    org = next(iter(xero.store.organisations.values()))
    xero_connect(xero, org, "offline_access accounting.contacts accounting.transactions")
    processes = processes_start(hubspot.url, xero.url)
    month = Month(hubspot, xero, org)
    try:
        time.sleep(6)  # the worker connects to the broker
        settle(hubspot, xero)
        before = vendor_calls(hubspot, xero)
        started = time.monotonic()
        for day in range(DAYS):
            month.day(day)
            settle(hubspot, xero)
            print(f"day {day + 1}: {sum(month.done.values())} events so far")
        seconds = time.monotonic() - started
        calls = vendor_calls(hubspot, xero) - before
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        hubspot.stop()
        xero.stop()
        web.shutdown()
    events = sum(month.done.values())
    total = sum(calls.values())
    delivered = InboundEvent.objects.exclude(source="operations")
    echoes = delivered.filter(payload__sourceId=settings.HUBSPOT_APP_ID).count()
    naive = delivered.count() - echoes
    hub_ms = deal_won_hub_ms()
    no_job = [d for d in month.won if not Job.objects.filter(origin_ref=d).exists()]
    # A job Xero refused (the demo's deal with an item code Xero does not know) is on an item.
    on_items = ReviewItem.objects.filter(status="open", record_type="job")
    not_invoiced = (
        Job.objects.filter(status=Job.Status.DONE)
        .exclude(number__in=on_items.values("record_ref"))
        .count()
    )
    print(
        f"A month of {DAYS} working days, seed {os.environ.get('BENCH_SEED', 14)}: "
        f"{events} business events in {seconds:.0f} s"
    )
    for kind, count in sorted(month.done.items()):
        print(f"  {count:4d}  {kind}")
    print(
        f"Webhook events delivered: {delivered.count()} ({echoes} of them the hub's own "
        f"HubSpot writes coming back); register events: "
        f"{InboundEvent.objects.filter(source='operations').count()}"
    )
    print(
        f"Vendor calls: {total} ({calls_total(calls, 'hubspot')} HubSpot, "
        f"{calls_total(calls, 'xero')} Xero)"
    )
    for name, count in calls.most_common(16):
        print(f"  {count:5d}  {name}")
    print(
        "Calls recorded by runs, by the kind of event they followed (a batch's calls "
        "shared among its runs):"
    )
    shares = calls_by_kind()
    runs = Counter(run_kind(r) for r in HandoffRun.objects.all())
    for kind, count in sorted(runs.items()):
        print(f"  {shares.get(kind, 0):7.1f} calls  {count:4d} runs  {kind}")
    print(f"  {total - sum(shares.values()):7.1f} the sandboxes' count less the runs' records")
    print("The calls the runs recorded, by handoff and operation:")
    for name, count in OPERATIONS.most_common(14):
        print(f"  {count:5d}  {name}")
    print(
        f"Deal won → job: {len(hub_ms)} jobs made; hub-side ms p50 "
        f"{statistics.median(hub_ms) if hub_ms else 0:.1f}, all: "
        f"{', '.join(f'{ms:.0f}' for ms in sorted(hub_ms))}"
    )
    items = Counter(ReviewItem.objects.values_list("kind", flat=True))
    print(f"Review items: {dict(items)}")
    for item in ReviewItem.objects.order_by("pk")[:12]:
        print(f"  {item.kind}: {item.title}: {item.reason[:160]}")
    figures = [
        Figure(
            "vendor calls per business event", total / max(events, 1), 2, naive / max(events, 1), ""
        ),
        Figure("deal won → job, hub-side p50", statistics.median(hub_ms) if hub_ms else 1e9, 60),
        Figure("won deals without a job", len(no_job), 0, unit=""),
        Figure("finished jobs not invoiced", not_invoiced, 0, unit=""),
    ]
    return report(figures)


def calls_total(calls: Counter, system: str) -> int:
    return sum(v for k, v in calls.items() if k.startswith(system))


if __name__ == "__main__":
    sys.exit(main())
