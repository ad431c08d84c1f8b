"""Invoice accuracy: do the hub's subtotal, GST and total equal Xero's on every invoice?

Run: .venv/bin/python bench/invoice_accuracy.py [JOBS]   (PostgreSQL and Redis on 127.0.0.1;
JOBS, or BENCH_JOBS, defaults to 1,000; BENCH_SEED picks another deterministic mix). It makes
its own database (hub_bench_invoice_accuracy_<pid>, dropped at the end) and uses Redis db 15
(refused unless empty; only its own keys are deleted at the end).

1. Jobs generated with a fixed seed: each 1 to 5 lines with GST, GST-free or no GST, prices
   including or excluding GST, unit prices of two or four decimals, whole and fractional
   quantities, and a discount on some lines. Their customers are linked to Xero contacts.
2. Each job is invoiced by the hub's own path: a run of the job_done_to_invoice handoff,
   executed as the worker executes it (50 invoices a request), against the Xero sandbox
   served over HTTP (its limits on: 60 calls a minute, 5 at once).
3. Each invoice's SubTotal, TotalTax and Total, as the sandbox worked them out, beside the
   hub's figures for the job (operations/money.py), to the cent.

The same-run baseline: the figures two naive computations get for the same invoices (GST
worked out once on the invoice's total instead of per line; unit prices cut to two
decimals), checked against the sandbox the same way, so a reader sees the check can fail.

Targets: no invoice whose figures differ from the sandbox's by any amount; no refusal from
Xero, or else each refused job on a review item. Exit 1 on a miss.
"""

import os
import random
import sys
import time
from decimal import Decimal

os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "xLGZLUIiOVlM5RLI3zE-w1pJC9mqr5-JUKmQ5VsYIsU=")
os.environ.setdefault("XERO_CLIENT_ID", "bench-client")
os.environ.setdefault("XERO_CLIENT_SECRET", "bench-secret")
os.environ.setdefault("HUBSPOT_ACCESS_TOKEN", "bench-hubspot-token")

from benchdb import bench_django, customers_linked, owned, xero_connect  # noqa: E402
from figures import Figure, report  # noqa: E402

sys.stdout.reconfigure(line_buffering=True)

JOBS = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_JOBS", 1000))
CUSTOMERS = 50
TIMEOUT = 540  # well under ten minutes at full size
rng = random.Random(int(os.environ.get("BENCH_SEED", 13)))
TAXES = ("gst", "gst", "gst", "gst_free", "none")  # mostly GST, as a trade's jobs are
DISCOUNTS = ("5", "10", "12.5", "15", "33.33")


def unit_price() -> Decimal:
    """Two decimals or four (a price per metre, per gram), small or large."""
    if rng.random() < 0.5:
        return Decimal(rng.randrange(1, 500_000)) / 100
    return Decimal(rng.randrange(1, 2_000_000)) / 10_000


def quantity() -> Decimal:
    """Whole, or to two decimals (15.6 hours)."""
    if rng.random() < 0.5:
        return Decimal(rng.randrange(1, 40))
    return Decimal(rng.randrange(1, 5_000)) / 100


def register_fill(org) -> None:
    """Customers linked to Xero contacts, and the generated jobs, finished."""
    from operations.models import Job, JobLine

    customers = customers_linked(org, [f"Accuracy {n:02d} Pty Ltd" for n in range(CUSTOMERS)])
    jobs = Job.objects.bulk_create(
        Job(
            customer=customers[n % CUSTOMERS],
            title=f"Accuracy job {n}",
            number=f"J-{200000 + n}",
            status=Job.Status.DONE,
            prices_include_gst=rng.random() < 0.4,
        )
        for n in range(JOBS)
    )
    lines = []
    for job in jobs:
        for position in range(rng.randint(1, 5)):
            lines.append(
                JobLine(
                    job=job,
                    description=f"Line {position + 1}",
                    quantity=quantity(),
                    unit_price=unit_price(),
                    tax=rng.choice(TAXES),
                    discount=Decimal(rng.choice(DISCOUNTS)) if rng.random() < 0.3 else 0,
                    position=position,
                )
            )
    JobLine.objects.bulk_create(lines)
    for job in jobs:  # the amount promised is what the lines come to: no promise item
        job.amount = job.lines_total
    Job.objects.bulk_update(jobs, ["amount"])


def invoice_all() -> float:
    """Start a run per job and execute them as the worker does (it takes 50 due runs at
    once); a run told to wait (a rate limit) is executed when it is due. Return seconds."""
    from django.utils import timezone

    from connectors.base import BusinessEvent
    from handoffs.models import HandoffRun
    from handoffs.registry import handoff_get
    from handoffs.runs import handoff_run_execute, handoff_run_start
    from operations.models import Job

    handoff = handoff_get("job_done_to_invoice")
    started = time.monotonic()
    for number in Job.objects.order_by("pk").values_list("number", flat=True):
        happened = BusinessEvent("job.completed", "operations", number, {})
        handoff_run_start(handoff=handoff, happened=happened)
    waiting = HandoffRun.objects.filter(
        handoff=handoff.name,
        state__in=[HandoffRun.State.PENDING, HandoffRun.State.RETRYING],
    )
    while time.monotonic() - started < TIMEOUT:
        due = waiting.filter(next_attempt_at__lte=timezone.now()).order_by("pk").first()
        if due is None:
            if not waiting.exists():
                break
            time.sleep(0.5)
            continue
        handoff_run_execute(run_id=due.pk)
    return time.monotonic() - started


def naive_figures(job, *, total_rounding: bool, two_places: bool):
    """What a naive invoice computation says: GST rounded once on the invoice's total, or
    unit prices cut to two decimals (each otherwise as Xero does)."""
    from operations import money

    lines = [
        money.Line(
            line.quantity,
            money.cents(line.unit_price) if two_places else line.unit_price,
            line.rate,
            line.discount,
        )
        for line in job.lines.all()
    ]
    if not total_rounding:
        return money.figures(lines, inclusive=job.prices_include_gst)
    amounts = sum((money.line_amount(x) for x in lines), Decimal("0"))
    hundred = money.HUNDRED
    shares = [
        x.rate / (hundred + x.rate) if job.prices_include_gst else x.rate / hundred for x in lines
    ]
    tax = money.cents(
        sum((money.line_amount(x) * s for x, s in zip(lines, shares, strict=True)), Decimal(0))
    )
    if job.prices_include_gst:
        return money.Figures(amounts - tax, tax, amounts)
    return money.Figures(amounts, tax, amounts + tax)


def compare(org) -> dict:
    """Each job's figures (the hub's, and the naive ones) beside the sandbox's invoice."""
    from operations.models import Job
    from operations.money import Figures

    theirs = {
        i["Reference"]: Figures(
            Decimal(str(i["SubTotal"])).quantize(Decimal("0.01")),
            Decimal(str(i["TotalTax"])).quantize(Decimal("0.01")),
            Decimal(str(i["Total"])).quantize(Decimal("0.01")),
        )
        for i in org.invoices.values()
    }
    counts = {"invoiced": 0, "hub": 0, "naive_total": 0, "naive_places": 0, "kept": 0}
    for job in Job.objects.prefetch_related("lines"):
        found = theirs.get(job.number)
        if found is None:
            continue
        counts["invoiced"] += 1
        counts["hub"] += job.figures != found
        counts["kept"] += job.xero_figures != found  # what the job page shows as Xero's
        counts["naive_total"] += naive_figures(job, total_rounding=True, two_places=False) != found
        counts["naive_places"] += naive_figures(job, total_rounding=False, two_places=True) != found
    return counts


def main() -> int:
    owned("invoice_accuracy", redis={"REDIS_URL": 15})
    bench_django()
    from django.conf import settings

    from connectors.sandbox.xero.server import start_in_thread
    from handoffs.models import HandoffRun
    from review_queue.models import ReviewItem

    sandbox = start_in_thread(
        client_id=os.environ["XERO_CLIENT_ID"], client_secret=os.environ["XERO_CLIENT_SECRET"]
    )
    org = next(iter(sandbox.store.organisations.values()))
    settings.XERO_API_BASE_URL = f"{sandbox.url}/api.xro/2.0"
    settings.XERO_TOKEN_URL = f"{sandbox.url}/connect/token"
    register_fill(org)
    xero_connect(sandbox, org)
    seconds = invoice_all()
    counts = compare(org)
    refused = HandoffRun.objects.filter(
        handoff="job_done_to_invoice", state=HandoffRun.State.NEEDS_REVIEW
    )
    on_items = refused.filter(review_item__isnull=False).count()
    items = ReviewItem.objects.filter(status=ReviewItem.Status.OPEN)
    figures_items = items.filter(kind=ReviewItem.Kind.FIGURES_DIFFER).count()
    sandbox.stop()

    print(f"Invoice accuracy: {JOBS} generated jobs (seed {os.environ.get('BENCH_SEED', 13)})")
    calls = sum(org.requests.values())
    print(f"Xero calls: {calls} ({org.rejected} answered 429)")
    naive = max(counts["naive_total"], counts["naive_places"])
    return report(
        [
            Figure(
                "jobs neither invoiced nor refused",
                JOBS - counts["invoiced"] - refused.count(),
                0,
                unit="",
            ),
            Figure(
                "totals differing from the sandbox's",
                counts["hub"],
                0,
                naive,
                "",
                baseline_is=(
                    f"GST rounded on the invoice total: {counts['naive_total']}; "
                    f"unit prices cut to 2 decimals: {counts['naive_places']}"
                ),
            ),
            Figure("Xero's figures kept on the job that differ", counts["kept"], 0, unit=""),
            Figure("figures-differ review items", figures_items, 0, unit=""),
            Figure("refusals from Xero", refused.count(), None, unit=""),
            Figure("refusals without a review item", refused.count() - on_items, 0, unit=""),
            Figure("time", seconds, TIMEOUT, unit="s"),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
