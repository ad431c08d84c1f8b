"""Month-end rush: 1,000 jobs for 200 customers finish together, twice: first for customers
already linked to Xero contacts, then for 200 others not linked yet (40 % have a contact of
the same name and email in Xero, 10 % one carrying the hub's ContactNumber from a create
whose answer was lost, the rest none). How many Xero calls, how long, how many 429s, how
many worker tasks and queries, how much worker memory? Each figure is printed beside its
target (`figures.report`); the run exits 1 on a miss. The second scenario starts once the
sandbox's rolling minute has room for its calls, with what the hub keeps of Xero (tax
rates, accounts, currencies) forgotten. BENCH_JOBS runs fewer jobs: the call target is then
one request per 50 jobs plus the same 5 other calls as at 1,000 (25 = 20 + 5), and 10 more
for the customers not linked (35), the time target scales with the jobs (never under
10 s); the others stay as they are.

Run: .venv/bin/python bench/month_end.py   (PostgreSQL and Redis on 127.0.0.1; a database of
its own, hub_bench_month_end_<pid>, dropped at the end, and Redis dbs 11 and 12, refused
unless empty and emptied of its keys at the end). A real Celery worker process invoices the
jobs against the Xero sandbox, which enforces Xero's limits (60 calls a minute, 5 at once,
5,000 a day). Then the same invoices are sent one per call, as most integration tools do,
for BASELINE_SECONDS, and the time that would take for all 1,000 is projected.
BENCH_MARKING_SECONDS spreads the marking over that many seconds (people at a pace): the
call targets hold whatever the pace.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "xLGZLUIiOVlM5RLI3zE-w1pJC9mqr5-JUKmQ5VsYIsU=")
os.environ.setdefault("XERO_CLIENT_ID", "bench-client")
os.environ.setdefault("XERO_CLIENT_SECRET", "bench-secret")

from benchdb import (  # noqa: E402
    bench_django,
    customers_linked,
    hub_processes,
    owned,
    xero_connect,
)
from figures import Figure, report  # noqa: E402

JOBS, CUSTOMERS = int(os.environ.get("BENCH_JOBS", 1000)), 200
BASELINE_SECONDS, TIMEOUT = int(os.environ.get("BENCH_BASELINE_SECONDS", 65)), 300
# Marking the jobs done spread evenly over this many seconds (0: as fast as one person can).
MARKING_SECONDS = float(os.environ.get("BENCH_MARKING_SECONDS", 0))
ROOT = Path(__file__).resolve().parent.parent


def sandbox_start():
    from connectors.sandbox.xero.server import start_in_thread

    return start_in_thread(
        client_id=os.environ["XERO_CLIENT_ID"], client_secret=os.environ["XERO_CLIENT_SECRET"]
    )


def contacts_make(org, count: int) -> list[str]:
    ids = []
    for n in range(count):
        contact_id = str(uuid.uuid4())
        org.contacts[contact_id] = {
            "ContactID": contact_id,
            "Name": f"Customer {n:03d} Pty Ltd",
            "ContactStatus": "ACTIVE",
            "UpdatedDateUTC": "/Date(0+0000)/",
        }
        ids.append(contact_id)
    return ids


def register_fill(customers: list, *, first: int = 100000) -> None:
    """The bench's new register: jobs in progress for these customers, numbered from
    J-<first>."""
    from django.contrib.auth import get_user_model

    from operations.models import Job, JobLine

    jobs = Job.objects.bulk_create(
        Job(
            customer=customers[n % len(customers)],
            title=f"Service visit {n}",
            number=f"J-{first + n}",
            status=Job.Status.IN_PROGRESS,
        )
        for n in range(JOBS)
    )
    JobLine.objects.bulk_create(
        line
        for job in jobs
        for line in (
            JobLine(
                job=job,
                description="Labour - electrician (hours)",
                quantity=3,
                unit_price=110,
                item_code="LABOUR-HR",
                position=0,
            ),
            JobLine(
                job=job,
                description="Call-out fee",
                quantity=1,
                unit_price=165,
                item_code="CALLOUT",
                position=1,
            ),
        )
    )
    get_user_model().objects.get_or_create(username="bench-tech")


def customers_unlinked(org, count: int) -> list:
    """Register customers the hub has seen in operations only, none linked to a Xero
    contact. In Xero: the first 40 % have a contact of the same name and email (to be
    matched), the next 10 % one carrying the hub's ContactNumber (made by the hub, its
    answer lost), the rest none (to be made)."""
    from operations.models import Customer
    from ownership.models import Record
    from ownership.services import record_for_link

    customers = Customer.objects.bulk_create(
        Customer(name=f"Client {n:03d} Ltd", email=f"accounts@client{n:03d}.com.au")
        for n in range(count)
    )
    for n, customer in enumerate(customers):
        record = record_for_link(
            type=Record.Type.CUSTOMER,
            system="operations",
            external_id=str(customer.pk),
            label=customer.name,
        )
        contact = {"Name": customer.name, "EmailAddress": customer.email}
        if n < count * 4 // 10:
            contact_id = str(uuid.uuid4())
        elif n < count // 2:
            contact_id, contact = str(uuid.uuid4()), contact | {"ContactNumber": f"HUB-{record.pk}"}
        else:
            continue
        org.contacts[contact_id] = contact | {
            "ContactID": contact_id,
            "ContactStatus": "ACTIVE",
            "UpdatedDateUTC": "/Date(0+0000)/",
        }
    return customers


def xero_kept_forget() -> None:
    """Forget what the hub keeps of Xero between runs (tax rates, accounts, currencies,
    tracking, the contact list's length): each scenario starts its month end cold."""
    import redis
    from django.conf import settings

    shared = redis.Redis.from_url(settings.REDIS_URL)
    patterns = ("tax-setup", "tracking", "currencies", "contacts-pages")
    keys = [k for p in patterns for k in shared.scan_iter(f"*xero:{p}:*")]
    if keys:
        shared.delete(*keys)


def minute_wait(org, calls: int) -> None:
    """Wait until the organisation's rolling minute has room for `calls` more calls: a
    second scenario never starts against the first one's calls."""
    while True:
        now = time.time()  # the sandbox's clock for its windows
        recent = [t for t in org.calls if now - t < 60]
        if len(recent) + calls <= 60:
            return
        time.sleep(max(60 - (now - recent[0]), 0.5))


def processes_start(sandbox_url: str) -> tuple[subprocess.Popen, subprocess.Popen]:
    """The hub's worker and its dispatcher (which hands the inbox's events to the worker),
    as the demo runs them."""
    worker, dispatcher = hub_processes(
        "month-end",
        {
            "XERO_API_BASE_URL": f"{sandbox_url}/api.xro/2.0",
            "XERO_TOKEN_URL": f"{sandbox_url}/connect/token",
        },
    )
    return worker, dispatcher


def peak_kib(pid: int) -> tuple[int, int]:
    """Return the peak resident memory (VmHWM) of the worker's parent and of its largest child."""

    def hwm(p: int) -> int:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return hwm(pid), max((hwm(int(child)) for child in children), default=0)


def tasks_executed() -> dict[str, int]:
    """Return how many tasks of each name the bench's worker has executed."""
    from integration_hub.celery import app

    stats = app.control.inspect(timeout=5).stats() or {}
    totals: dict[str, int] = {}
    for worker in stats.values():
        for name, count in worker.get("total", {}).items():
            totals[name] = totals.get(name, 0) + count
    return totals


def hub_run(sandbox, *, unlinked: bool = False) -> dict:
    """Mark the jobs done and wait for their drafts; `unlinked`: for customers not linked
    to Xero contacts yet (a scenario of its own: its own customers and jobs, J-2xxxxx)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from connectors.models import XeroConnection
    from operations.models import Job
    from operations.services import job_complete
    from review_queue.models import ReviewItem

    settings.XERO_API_BASE_URL = f"{sandbox.url}/api.xro/2.0"
    org = next(iter(sandbox.store.organisations.values()))
    if unlinked:
        register_fill(customers_unlinked(org, CUSTOMERS), first=200000)
    else:
        names = [f"Customer {n:03d} Pty Ltd" for n in range(CUSTOMERS)]
        register_fill(customers_linked(org, names))
    if not XeroConnection.objects.exists():
        xero_connect(sandbox, org)
    xero_kept_forget()
    org.requests.clear()
    org.rejected = 0
    items_before = ReviewItem.objects.count()
    worker, dispatcher = processes_start(sandbox.url)
    time.sleep(6)  # the worker connects to the broker
    tech = get_user_model().objects.get(username="bench-tech")
    jobs = list(Job.objects.filter(status=Job.Status.IN_PROGRESS).order_by("pk"))
    ours = Job.objects.filter(pk__in=[job.pk for job in jobs])
    started = time.monotonic()
    queries = 0
    for n, job in enumerate(jobs):
        if MARKING_SECONDS:  # people marking at a pace: job n at its share of the time
            time.sleep(max(0.0, started + MARKING_SECONDS * n / len(jobs) - time.monotonic()))
        # Every query of Mark done, the outbox's forwarding to the inbox on commit included
        # (Django's log keeps 9,000: emptied first, so the count never runs into its end).
        reset_queries()
        with CaptureQueriesContext(connection) as marking:
            job_complete(job=job, by=tech, note="Done at month end.")
        queries += len(marking.captured_queries)
    finished_marking = time.monotonic() - started
    invoiced = 0
    while time.monotonic() - started < TIMEOUT:
        invoiced = ours.filter(status=Job.Status.INVOICED).count()
        if invoiced == JOBS:
            break
        time.sleep(0.5)
    wall = time.monotonic() - started
    time.sleep(3)  # the runs that follow the invoices (the jobs' status) finish
    peak = peak_kib(worker.pid)
    tasks = tasks_executed()
    for process in (worker, dispatcher):
        process.terminate()
        process.wait(timeout=30)
    return {
        "invoiced": invoiced,
        "calls": sum(org.requests.values()) + org.rejected,
        "create_calls": org.requests["PUT /Invoices"],
        "requests": dict(org.requests),
        "rejected_429": org.rejected,
        "wall_s": wall,
        "marking_s": finished_marking,
        "peak_mib": peak[0] / 1024,
        "child_peak_mib": peak[1] / 1024,
        "review_items": ReviewItem.objects.count() - items_before,
        "tasks": tasks,
        "queries_per_done": queries / len(jobs),
    }


def baseline_run(sandbox) -> dict:
    """One invoice per call from 4 threads, sleeping through 429s as xero-python does."""
    from xero_python.accounting import AccountingApi, Contact, Invoice, Invoices, LineItem
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    sandbox.store.reset()
    org = next(iter(sandbox.store.organisations.values()))
    contact_ids = contacts_make(org, CUSTOMERS)
    token = sandbox.store.issue_tokens()
    client = ApiClient(
        Configuration(
            oauth2_token=OAuth2Token(
                client_id=os.environ["XERO_CLIENT_ID"],
                client_secret=os.environ["XERO_CLIENT_SECRET"],
            )
        )
    )
    client.oauth2_token_getter(lambda: dict(token, expires_at=time.time() + 1800, scope=[]))
    api = AccountingApi(client, base_url=f"{sandbox.url}/api.xro/2.0")
    numbers = iter(range(JOBS))
    lock, made = threading.Lock(), []
    started = time.monotonic()

    def send() -> None:
        while time.monotonic() - started < BASELINE_SECONDS:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            invoice = Invoice(
                type="ACCREC",
                contact=Contact(contact_id=contact_ids[n % CUSTOMERS]),
                reference=f"J-{100000 + n}",
                status="DRAFT",
                line_items=[
                    LineItem(
                        item_code="LABOUR-HR", description="Labour", quantity=3, unit_amount=110
                    ),
                    LineItem(
                        item_code="CALLOUT", description="Call-out", quantity=1, unit_amount=165
                    ),
                ],
            )
            api.create_invoices(org.tenant_id, Invoices(invoices=[invoice]))
            with lock:
                made.append(n)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    return {
        "invoiced": len(made),
        "calls": sum(org.requests.values()) + org.rejected,
        "rejected_429": org.rejected,
        "wall_s": wall,
        "projected_s": wall * JOBS / max(len(made), 1),
    }


def hub_print(title: str, hub: dict) -> None:
    print(f"Hub, batched ({JOBS} jobs, {CUSTOMERS} customers {title}, one worker, prefork -c 2):")
    print(
        f"  invoiced {hub['invoiced']}/{JOBS} in {hub['wall_s']:.1f} s "
        f"(marking the jobs done took {hub['marking_s']:.1f} s of it)"
    )
    print(
        f"  Xero calls {hub['calls']} ({hub['create_calls']} invoice requests), "
        f"429s {hub['rejected_429']}, review items {hub['review_items']}"
    )
    print(f"  Xero requests: {hub['requests']}")
    print(f"  worker tasks executed: {hub['tasks']}")


def hub_figures(hub: dict, base: dict, calls_target: int, suffix: str = "") -> list[Figure]:
    """The figures of one scenario beside their targets (`suffix` names the scenario)."""
    seconds_target = max(60 * JOBS / 1000, 10)
    return [
        Figure(f"jobs not invoiced{suffix}", JOBS - hub["invoiced"], 0, unit=""),
        Figure(
            f"Xero calls{suffix}",
            hub["calls"],
            calls_target,
            base["calls"] * JOBS / max(base["invoiced"], 1),
            "",
        ),
        Figure(
            f"seconds from the first Mark done{suffix}",
            hub["wall_s"],
            seconds_target,
            base["projected_s"],
            "s",
        ),
        Figure(f"429 answers{suffix}", hub["rejected_429"], 0, base["rejected_429"], ""),
        Figure(
            f"worker tasks per invoiced job{suffix}",
            sum(hub["tasks"].values()) / max(hub["invoiced"], 1),
            2,
            unit="",
        ),
        Figure(f"queries per Mark done{suffix}", hub["queries_per_done"], 5, unit=""),
        Figure(f"worker parent peak RSS{suffix}", hub["peak_mib"], 150, unit="Mi"),
        Figure(
            f"worker pool process peak RSS (largest){suffix}",
            hub["child_peak_mib"],
            150,
            unit="Mi",
        ),
    ]


def main() -> int:
    owned("month_end", redis={"REDIS_URL": 11, "CELERY_BROKER_URL": 12})
    bench_django()
    sandbox = sandbox_start()
    # One request per 50 jobs and 5 other calls; for customers not linked yet, 10 more to
    # find and make their contacts (the same 200 customers at any size).
    calls_target = -(-JOBS // 50) + 5
    unlinked_target = calls_target + 10
    hub = hub_run(sandbox)
    hub_print("linked to Xero contacts", hub)
    minute_wait(next(iter(sandbox.store.organisations.values())), unlinked_target)
    fresh = hub_run(sandbox, unlinked=True)
    hub_print("not linked to Xero contacts yet", fresh)
    base = baseline_run(sandbox)
    print(f"One invoice per call (4 threads, sleeping through 429s), {BASELINE_SECONDS} s window:")
    print(
        f"  invoiced {base['invoiced']} in {base['wall_s']:.1f} s with {base['calls']} calls, "
        f"429s {base['rejected_429']}"
    )
    print(f"  projected for all {JOBS}: {base['projected_s'] / 60:.1f} min")
    sandbox.stop()
    print(
        f"Targets for {JOBS} jobs: {calls_target} Xero calls ({unlinked_target} with the "
        f"customers not linked yet), {max(60 * JOBS / 1000, 10):.0f} s."
    )
    figures = hub_figures(hub, base, calls_target)
    figures += hub_figures(fresh, base, unlinked_target, " (customers not linked)")
    return report(figures)


if __name__ == "__main__":
    sys.exit(main())
