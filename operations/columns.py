"""The columns of a jobs spreadsheet, defined once: the import reads each, the export writes each.

A job is one row per line of work; a job without lines is one row with the line cells blank.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import models
from django.utils import timezone

from operations.models import Job, JobLine
from operations.money import price_text

DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y")
Cell = str | int | float | datetime | date


def _text(cell: Cell, name: str) -> str:
    return str(cell).strip()


def _when(cell: Cell, name: str) -> datetime | None:
    if cell == "":
        return None
    if isinstance(cell, datetime):
        return timezone.make_aware(cell) if timezone.is_naive(cell) else cell
    if isinstance(cell, date):
        return timezone.make_aware(datetime.combine(cell, datetime.min.time()))
    for pattern in DATE_FORMATS:
        try:
            return timezone.make_aware(datetime.strptime(str(cell).strip(), pattern))
        except ValueError:
            continue
    raise ValueError(
        f"{name} '{cell}' is not a date — write it as 2026-12-01 08:30 or 01/12/2026 08:30"
    )


def _decimal(cell: Cell, name: str) -> Decimal | None:
    if str(cell).strip() == "":
        return None
    try:
        return Decimal(str(cell).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise ValueError(f"{name} '{cell}' is not a number") from None


def _amount(cell: Cell, name: str) -> Decimal:
    return _decimal(cell, name) or Decimal("0")


def _choice(choices: type[models.TextChoices], blank: str) -> Callable[[Cell, str], str]:
    """Read a choice by its value or its label, in any case; a blank cell is `blank`."""
    words = {label.lower(): value for value, label in choices.choices}
    words |= {value: value for value in choices.values}

    def read(cell: Cell, name: str) -> str:
        text = str(cell).strip().lower()
        if text and text not in words:
            raise ValueError(f"unknown {name} '{cell}' — use one of {', '.join(choices.labels)}")
        return words[text] if text else blank

    return read


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@dataclass(frozen=True)
class Column:
    """One column: its header, how a cell is read, how a job (and one of its lines) is written."""

    name: str
    reader: Callable[[Cell, str], object]
    write: Callable[[Job, JobLine | None], str]
    required: bool = False
    of_line: bool = False

    def read(self, cell: Cell | None) -> object:
        """Return the cell's clean value, or raise ValueError saying what is wrong with it."""
        cell = "" if cell is None else cell
        if self.required and not str(cell).strip():
            raise ValueError(f"{self.name} is empty")
        return self.reader(cell, self.name)


def _line(write: Callable[[JobLine], str]) -> Callable[[Job, JobLine | None], str]:
    return lambda job, line: write(line) if line else ""


COLUMNS = (
    Column("number", _text, lambda job, line: job.number or "", required=True),
    Column("customer", _text, lambda job, line: job.customer.name, required=True),
    Column("title", _text, lambda job, line: job.title, required=True),
    Column("status", _choice(Job.Status, Job.Status.SCHEDULED), lambda job, line: job.status),
    Column("scheduled_start", _when, lambda job, line: _local(job.scheduled_start)),
    Column("scheduled_end", _when, lambda job, line: _local(job.scheduled_end)),
    Column("crew", _text, lambda job, line: job.crew.name if job.crew else ""),
    Column("site_address", _text, lambda job, line: job.site_address),
    Column("site_contact", _text, lambda job, line: job.site_contact),
    Column("site_notes", _text, lambda job, line: job.site_notes),
    Column("amount", _amount, lambda job, line: str(job.amount)),
    Column("customer_email", _text, lambda job, line: job.customer.email),
    Column("customer_phone", _text, lambda job, line: job.customer.phone),
    Column("line_description", _text, _line(lambda line: line.description), of_line=True),
    Column("line_item_code", _text, _line(lambda line: line.item_code), of_line=True),
    Column("line_quantity", _decimal, _line(lambda line: str(line.quantity)), of_line=True),
    Column(
        "line_unit_price", _decimal, _line(lambda line: price_text(line.unit_price)), of_line=True
    ),
    Column(
        "line_tax",
        _choice(JobLine.Tax, JobLine.Tax.GST),
        _line(lambda line: line.tax),
        of_line=True,
    ),
)
NAMES = tuple(column.name for column in COLUMNS)
REQUIRED = tuple(column.name for column in COLUMNS if column.required)
OPTIONAL = tuple(column.name for column in COLUMNS if not column.required)
