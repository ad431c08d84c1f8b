"""The job list as CSV or XLSX, in the columns the import reads, formulas disarmed."""

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet
from openpyxl import Workbook

from integration_hub.spreadsheets import formula_neutralise
from operations.columns import COLUMNS, NAMES
from operations.models import Job, JobLine


def _rows(jobs: QuerySet[Job]) -> Iterator[list[str]]:
    """Yield one row per line of each job (one row for a job without lines), formulas quoted."""
    for job in jobs.select_related("customer", "crew").prefetch_related("lines"):
        lines: list[JobLine | None] = [*job.lines.all()] or [None]
        for line in lines:
            yield [formula_neutralise(column.write(job, line)) for column in COLUMNS]


def jobs_csv(jobs: QuerySet[Job]) -> bytes:
    """Return the jobs as a CSV file (UTF-8 with a BOM, so Excel reads it right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(NAMES)
    writer.writerows(_rows(jobs))
    return ("\ufeff" + out.getvalue()).encode()


def jobs_xlsx(jobs: QuerySet[Job]) -> bytes:
    """Return the jobs as an Excel workbook."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Jobs")
    sheet.append(NAMES)
    for row in _rows(jobs):
        # Every value is text; none begins with "=", so openpyxl keeps each as a string.
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
