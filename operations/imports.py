"""Jobs and customers from a spreadsheet (CSV or XLSX): parse, check every row, then apply."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from integration_hub.spreadsheets import formula_restore
from operations.addresses import address_parts
from operations.events import event_record
from operations.models import Crew, Customer, Job, JobLine
from operations.services import customer_create, customer_fields_set

REQUIRED = ("number", "customer", "title")
CUSTOMER_COLUMNS = ("name", "email", "phone", "address")
OPTIONAL = (
    "status",
    "scheduled_start",
    "scheduled_end",
    "crew",
    "site_address",
    "site_contact",
    "site_notes",
    "amount",
    "customer_email",
    "customer_phone",
    "line_description",
    "line_item_code",
    "line_quantity",
    "line_unit_price",
)
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y")
STATUS_WORDS = {label.lower(): value for value, label in Job.Status.choices} | {
    value: value for value in Job.Status.values
}


class ImportRefused(ValueError):
    """The file cannot be imported as it is; the message says why."""


@dataclass
class Row:
    """One spreadsheet row: its number as people see it, its clean values, its problems."""

    line: int
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _when(text, line: int, column: str, errors: list[str]):
    if text in (None, ""):
        return None
    if isinstance(text, datetime):
        return timezone.make_aware(text) if timezone.is_naive(text) else text
    if isinstance(text, date):
        return timezone.make_aware(datetime.combine(text, datetime.min.time()))
    for pattern in DATE_FORMATS:
        try:
            return timezone.make_aware(datetime.strptime(str(text).strip(), pattern))
        except ValueError:
            continue
    errors.append(
        f"row {line}: {column} '{text}' is not a date — write it as 2026-12-01 08:30 "
        "or 01/12/2026 08:30"
    )
    return None


def _number(text, line: int, column: str, errors: list[str]) -> Decimal | None:
    if text in (None, ""):
        return None
    try:
        return Decimal(str(text).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        errors.append(f"row {line}: {column} '{text}' is not a number")
        return None


def _table(filename: str, content: bytes) -> tuple[list[str], list[tuple]]:
    """Return the header (normalised) and the non-empty rows of a CSV or the first XLSX sheet."""
    if filename.lower().endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise ImportRefused(
                f"'{filename}' could not be read as an Excel file ({exc})."
            ) from exc
        rows = list(sheet.iter_rows(values_only=True))
    elif filename.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportRefused(f"'{filename}' is not UTF-8 text; save it as CSV UTF-8.") from exc
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise ImportRefused(f"'{filename}' is neither .csv nor .xlsx.")
    if not rows:
        raise ImportRefused(f"'{filename}' is empty.")
    header = [str(h or "").strip().lower().replace(" ", "_") for h in rows[0]]
    rows = [tuple(formula_restore(cell) for cell in row) for row in rows[1:]]
    return header, [row for row in rows if any(c not in (None, "") for c in row)]


def sheet_kind(filename: str, content: bytes) -> str:
    """Return "jobs" or "customers", from the columns the first row names."""
    header, _ = _table(filename, content)
    if "number" in header:
        return "jobs"
    if "name" in header:
        return "customers"
    raise ImportRefused(
        "The first row must name the columns: a jobs file has number, customer and title; "
        f"a customers file has name (and {', '.join(CUSTOMER_COLUMNS[1:])})."
    )


def _records(filename: str, content: bytes, required: tuple[str, ...], known) -> list[dict]:
    """Return the rows as dicts by header, refusing a file without the required columns."""
    header, rows = _table(filename, content)
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportRefused(
            f"The first row must name the columns; {', '.join(missing)} is missing. "
            f"Columns read: {', '.join(known)}."
        )
    return [dict(zip(header, row, strict=False)) for row in rows]


def rows_parse(filename: str, content: bytes) -> list[Row]:
    """Check every row and return them with their clean values and plain-words errors."""
    parsed, seen = [], set()
    for offset, record in enumerate(
        _records(filename, content, REQUIRED, REQUIRED + OPTIONAL), start=2
    ):
        row = Row(line=offset)
        text = {k: ("" if v is None else v) for k, v in record.items()}
        for name in REQUIRED:
            if not str(text.get(name, "")).strip():
                row.errors.append(f"row {offset}: {name} is empty")
        number = str(text.get("number", "")).strip()
        if number in seen:
            row.errors.append(f"row {offset}: job number {number} appears twice in the file")
        seen.add(number)
        status = str(text.get("status", "") or "scheduled").strip().lower()
        if status not in STATUS_WORDS:
            row.errors.append(
                f"row {offset}: unknown status '{text.get('status')}' — use one of "
                f"{', '.join(Job.Status.values)}"
            )
        row.values = {
            "number": number,
            "customer": str(text.get("customer", "")).strip(),
            "title": str(text.get("title", "")).strip(),
            "status": STATUS_WORDS.get(status, "scheduled"),
            "scheduled_start": _when(
                text.get("scheduled_start"), offset, "scheduled_start", row.errors
            ),
            "scheduled_end": _when(text.get("scheduled_end"), offset, "scheduled_end", row.errors),
            "crew": str(text.get("crew", "")).strip(),
            "amount": _number(text.get("amount"), offset, "amount", row.errors) or Decimal("0"),
            "line_quantity": _number(
                text.get("line_quantity"), offset, "line_quantity", row.errors
            ),
            "line_unit_price": _number(
                text.get("line_unit_price"), offset, "line_unit_price", row.errors
            ),
        }
        for name in (
            "site_address",
            "site_contact",
            "site_notes",
            "customer_email",
            "customer_phone",
            "line_description",
            "line_item_code",
        ):
            row.values[name] = str(text.get(name, "")).strip()
        parsed.append(row)
    return parsed


JOB_FIELDS = (
    "title",
    "status",
    "scheduled_start",
    "scheduled_end",
    "site_address",
    "site_contact",
    "site_notes",
    "amount",
)


@transaction.atomic
def rows_apply(*, rows: list[Row], skip_bad: bool, by=None) -> dict[str, int]:
    """Create or update one job per good row, matched on job number; all or nothing."""
    bad = [row for row in rows if row.errors]
    if bad and not skip_bad:
        raise ImportRefused(
            f"{len(bad)} row(s) have problems; nothing was imported. Fix them, "
            "or tick 'skip the rows with problems'."
        )
    good = [row.values for row in rows if not row.errors]
    customers = {
        c.name.lower(): c for c in Customer.objects.filter(name__in=[v["customer"] for v in good])
    }
    crews = {c.name.lower(): c for c in Crew.objects.all()}
    jobs = {j.number: j for j in Job.objects.filter(number__in=[v["number"] for v in good])}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": len(bad)}
    for values in good:
        customer = customers.get(values["customer"].lower())
        if customer is None:
            customer = customer_create(
                name=values["customer"],
                email=values["customer_email"],
                phone=values["customer_phone"],
                by=by,
            )
            customers[customer.name.lower()] = customer
        crew = None
        if values["crew"]:
            crew = crews.get(values["crew"].lower()) or Crew.objects.create(name=values["crew"])
            crews[crew.name.lower()] = crew
        job = jobs.get(values["number"]) or Job(number=values["number"])
        created = job.pk is None
        fields = {name: values[name] for name in JOB_FIELDS} | {"customer": customer, "crew": crew}
        if not created and all(getattr(job, k) == v for k, v in fields.items()):
            counts["unchanged"] += 1
            continue
        for name, value in fields.items():
            setattr(job, name, value)
        job._history_user = by
        job.save()
        if created and values["line_description"]:
            JobLine.objects.create(
                job=job,
                description=values["line_description"],
                item_code=values["line_item_code"],
                quantity=values["line_quantity"] or Decimal("1"),
                unit_price=values["line_unit_price"] or values["amount"],
            )
        event_record(job=job, type="job.imported", data={"created": created}, by=by)
        counts["created" if created else "updated"] += 1
    return counts


def customer_rows_parse(filename: str, content: bytes) -> list[Row]:
    """Check a customers file: a name on every row, no name twice."""
    parsed, seen = [], set()
    records = _records(filename, content, ("name",), CUSTOMER_COLUMNS)
    for offset, record in enumerate(records, start=2):
        values = {k: str(record.get(k) or "").strip() for k in CUSTOMER_COLUMNS}
        row = Row(line=offset, values=values | {"number": "", "customer": values["name"]})
        if not values["name"]:
            row.errors.append(f"row {offset}: name is empty")
        elif values["name"].lower() in seen:
            row.errors.append(
                f"row {offset}: customer '{values['name']}' appears twice in the file"
            )
        seen.add(values["name"].lower())
        parsed.append(row)
    return parsed


@transaction.atomic
def customer_rows_apply(*, rows: list[Row], skip_bad: bool, by=None) -> dict[str, int]:
    """Create or update one customer per good row, matched on name (any case); all or nothing."""
    bad = [row for row in rows if row.errors]
    if bad and not skip_bad:
        raise ImportRefused(
            f"{len(bad)} row(s) have problems; nothing was imported. Fix them, "
            "or tick 'skip the rows with problems'."
        )
    existing = {c.name.lower(): c for c in Customer.objects.all()}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": len(bad)}
    for row in rows:
        if row.errors:
            continue
        values = {k: row.values[k] for k in CUSTOMER_COLUMNS if k != "address"}
        values |= address_parts(row.values["address"]) if row.values["address"] else {}
        customer = existing.get(values["name"].lower())
        if customer is None:
            existing[values["name"].lower()] = customer_create(by=by, **values)
            counts["created"] += 1
            continue
        # The name matched (in any case) and keeps its spelling; blanks change nothing.
        details = {k: v for k, v in values.items() if v and k != "name"}
        changed = customer_fields_set(customer=customer, changes=details, by=by)
        counts["updated" if changed else "unchanged"] += 1
    return counts
