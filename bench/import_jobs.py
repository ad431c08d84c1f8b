"""How long a jobs spreadsheet takes to import (parse, check, write): 500 and 10,000 rows.

Run: .venv/bin/python bench/import_jobs.py [ROWS]   (default 10,000 for the large file;
PostgreSQL on 127.0.0.1:5432; a database of its own, hub_bench_import_<pid>, dropped at the
end, and files in a temporary folder)

1. 500 rows, CSV and XLSX, as the preview page imports them (in the request): each file
   into an empty register, then again (nothing created, nothing changed).
2. ROWS rows as the background import runs them (`import_run`, the worker's task body:
   read the stored file, check it, apply it chunk by chunk saving its progress), then again.
Each re-import must create and change nothing: the jobs, customers, history rows and
events are counted before and after, and the bench fails if any moved.

Baseline, in the same run: the same new jobs and their lines written with a bare
bulk_create (no checks, no history, no events): the floor an import cannot beat.
Exit 1 when a figure misses its target or a re-import changed anything.
"""

import csv
import io
import os
import sys
import tempfile
import time

os.environ["HUB_VAR_DIR"] = tempfile.mkdtemp(prefix="hub_bench_import_")

from benchdb import bench_django, owned  # noqa: E402
from figures import Figure, report  # noqa: E402

owned("import")
bench_django()

from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from operations.imports import CHUNK, import_run, rows_apply, rows_parse  # noqa: E402
from operations.models import Crew, Customer, Job, JobEvent, JobImport, JobLine  # noqa: E402

SMALL = 500
LARGE = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
HEADER = [
    "number",
    "customer",
    "title",
    "status",
    "scheduled_start",
    "scheduled_end",
    "crew",
    "site_address",
    "amount",
    "line_description",
    "line_item_code",
    "line_quantity",
    "line_unit_price",
]


def rows(prefix: str, count: int) -> list[list]:
    return [
        [
            f"{prefix}-{n:05d}",
            f"Customer {n % max(120, count // 5)}",
            f"Service visit {n}",
            "scheduled",
            f"2026-12-{1 + n % 28:02d} {7 + n % 9:02d}:00",
            f"2026-12-{1 + n % 28:02d} 16:00",
            f"Crew {n % 6}",
            f"{n} George St, Sydney NSW 2000",
            "440.00",
            "Labour",
            "LABOUR-HR",
            "4",
            "110.00",
        ]
        for n in range(count)
    ]


def as_csv(data: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *data])
    return out.getvalue().encode()


def as_xlsx(data: list[list]) -> bytes:
    book = Workbook()
    book.active.append(HEADER)
    for row in data:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def tally() -> dict[str, int]:
    """Everything an import writes, counted: a re-import must leave each as it was."""
    return {
        "jobs": Job.objects.count(),
        "job history": Job.history.count(),
        "lines": JobLine.objects.count(),
        "customers": Customer.objects.count(),
        "customer history": Customer.history.count(),
        "crews": Crew.objects.count(),
        "events": JobEvent.objects.count(),
        "last change": Job.objects.order_by("-updated_at").values_list("pk", flat=True).first(),
    }


def in_request(name: str, content: bytes) -> tuple[float, dict, int]:
    """Import a file as the preview page does for a small file; return seconds, counts and
    the number of queries."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        counts = rows_apply(rows=rows_parse(name, content), skip_bad=False)
        seconds = time.perf_counter() - started
    return seconds, counts, len(queries)


def in_background(name: str, content: bytes) -> tuple[float, dict, int]:
    """Import a stored file as the worker does; return seconds, counts and how many times
    it saved its progress."""
    pending = JobImport.objects.create(filename=name, state="queued", rows_total=LARGE)
    pending.file.save(name, ContentFile(content))
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        import_run(pending_id=pending.pk, skip_bad=False, by_id=None)
        seconds = time.perf_counter() - started
    pending.refresh_from_db()
    if pending.state != "done" or pending.rows_done != LARGE:
        raise SystemExit(f"The background import ended {pending.state}: {pending.problem}")
    steps = sum(1 for q in queries if q["sql"].startswith('UPDATE "operations_jobimport"'))
    return seconds, pending.summary, steps


def floor(prefix: str, count: int) -> float:
    """The same new jobs and lines with a bare bulk_create, rolled back: the floor."""
    customer = Customer.objects.create(name=f"Floor {prefix}")
    started = time.perf_counter()
    with transaction.atomic():
        jobs = Job.objects.bulk_create(
            [Job(number=f"{prefix}-{n:05d}", customer=customer, title="x") for n in range(count)],
            batch_size=500,
        )
        JobLine.objects.bulk_create(
            [JobLine(job=job, description="Labour") for job in jobs], batch_size=500
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    customer.delete()
    return seconds


def same(before: dict, after: dict, what: str) -> bool:
    moved = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    if moved:
        print(f"{what} changed something: {moved}")
    return not moved


def main() -> int:
    figures, ok = [], True
    for label, prefix, encode in (("csv", "CSV", as_csv), ("xlsx", "XLS", as_xlsx)):
        content = encode(rows(prefix, SMALL))
        base = floor(f"F{prefix}", SMALL)
        seconds, counts, queries = in_request(f"jobs.{label}", content)
        ok &= counts["created"] == SMALL
        figures.append(Figure(f"{SMALL} rows {label}, first import", seconds, 1, base, "s"))
        figures.append(
            Figure(f"{SMALL} rows {label}, queries per row", queries / SMALL, 0.5, None, "q")
        )
        before = tally()
        seconds, counts, _ = in_request(f"jobs.{label}", content)
        ok &= counts["unchanged"] == SMALL and same(before, tally(), f"{label} re-import")
        figures.append(
            Figure(f"{SMALL} rows {label}, again (nothing changes)", seconds, 1, None, "s")
        )
    content = as_csv(rows("BIG", LARGE))
    base = floor("FBIG", LARGE)
    seconds, counts, steps = in_background("big.csv", content)
    ok &= counts["created"] == LARGE
    print(f"The {LARGE:,}-row import saved its progress {steps} times (every {CHUNK} jobs).")
    ok &= steps > LARGE // CHUNK
    figures.append(Figure(f"{LARGE:,} rows csv, background import", seconds, 10, base, "s"))
    before = tally()
    seconds, counts, _ = in_background("big.csv", content)
    ok &= counts["unchanged"] == LARGE and same(before, tally(), "background re-import")
    figures.append(Figure(f"{LARGE:,} rows csv, again (nothing changes)", seconds, 10, None, "s"))
    status = report(figures)
    if not ok:
        print("FAILED: an import did not create, or a re-import did not leave, what it should.")
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
