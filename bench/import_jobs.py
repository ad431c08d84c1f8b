"""How long a 500-job spreadsheet takes to import (parse, check, write), CSV and XLSX.

Run: .venv/bin/python bench/import_jobs.py   (PostgreSQL on 127.0.0.1:5432; a database of its
own, hub_bench_import_<pid>, dropped at the end)
Each file is imported twice: first into an empty register (500 new jobs), then again
(nothing changes, nothing is duplicated).
"""

import csv
import io
import time

from benchdb import bench_django, owned

owned("import")
bench_django()

from openpyxl import Workbook  # noqa: E402

from operations.imports import rows_apply, rows_parse  # noqa: E402

ROWS = 500
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


def rows(prefix: str) -> list[list]:
    return [
        [
            f"{prefix}-{n:04d}",
            f"Customer {n % 120}",
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
        for n in range(ROWS)
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


def timed(name: str, content: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    counts = rows_apply(rows=rows_parse(name, content), skip_bad=False)
    return time.perf_counter() - started, counts


def main() -> None:
    print(f"{'file':10} {'run':8} {'seconds':>8} {'rows/s':>8}  result")
    for label, prefix, encode in (("csv", "CSV", as_csv), ("xlsx", "XLS", as_xlsx)):
        content = encode(rows(prefix))
        for run in ("first", "again"):
            seconds, counts = timed(f"jobs.{label}", content)
            print(f"{label:10} {run:8} {seconds:8.2f} {ROWS / seconds:8.0f}  {counts}")


if __name__ == "__main__":
    main()
