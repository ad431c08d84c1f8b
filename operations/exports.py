"""The job list as CSV or XLSX, with the same columns the import reads, formulas disarmed."""

import csv
import io
from collections.abc import Iterable

from django.utils import timezone
from openpyxl import Workbook

from integration_hub.spreadsheets import formula_neutralise
from operations.models import Job

COLUMNS = [
    "number",
    "customer",
    "title",
    "status",
    "scheduled_start",
    "scheduled_end",
    "crew",
    "site_address",
    "site_contact",
    "site_notes",
    "amount",
]


def _row(job: Job) -> list[str]:
    def when(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    return [
        job.number,
        job.customer.name,
        job.title,
        job.status,
        when(job.scheduled_start),
        when(job.scheduled_end),
        job.crew.name if job.crew else "",
        job.site_address,
        job.site_contact,
        job.site_notes,
        str(job.amount),
    ]


def _safe_row(job: Job) -> list[str]:
    return [formula_neutralise(value) for value in _row(job)]


def jobs_csv(jobs: Iterable[Job]) -> bytes:
    """Return the jobs as a CSV file (UTF-8 with a BOM, so Excel reads it right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(_safe_row(job) for job in jobs)
    return ("\ufeff" + out.getvalue()).encode()


def jobs_xlsx(jobs: Iterable[Job]) -> bytes:
    """Return the jobs as an Excel workbook."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Jobs")
    sheet.append(COLUMNS)
    for job in jobs:
        # Every value is text; none begins with "=", so openpyxl keeps each as a string.
        sheet.append(_safe_row(job))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
