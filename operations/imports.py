"""Jobs and customers from a spreadsheet (CSV or XLSX): parse, check every row, then apply."""

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import ngettext
from openpyxl import load_workbook

from integration_hub.spreadsheets import formula_restore
from operations.addresses import address_parts
from operations.columns import COLUMNS, NAMES, REQUIRED
from operations.events import event_record
from operations.models import Crew, Customer, Job, JobLine
from operations.services import customer_create, customer_fields_set

CUSTOMER_COLUMNS = ("name", "email", "phone", "address")
# What a job row sets on the job itself; the rest is its customer, its crew or a line.
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


class ImportRefused(ValueError):
    """The file cannot be imported as it is; the message says why."""


@dataclass
class Row:
    """One spreadsheet row: its number, its cells, their clean values, its problems and notes."""

    line: int
    values: dict = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
    """Check every row and return them with their clean values and plain-words problems."""
    records = _records(filename, content, REQUIRED, NAMES)
    rows = [_row_read(line, record) for line, record in enumerate(records, start=2)]
    _rows_join(rows)
    _crews_check(rows)
    return rows


def _row_read(line: int, record: dict) -> Row:
    """Read one row column by column: what the cell says, its clean value or its problem."""
    row = Row(line=line)
    for column in COLUMNS:
        cell = record.get(column.name)
        row.cells[column.name] = "" if cell is None else str(cell)
        try:
            row.values[column.name] = column.read(cell)
        except ValueError as problem:
            row.errors.append(f"row {line}: {problem}")
    return row


def _rows_join(rows: list[Row]) -> None:
    """Make the rows of one job number one job with several lines.

    Its rows must agree on everything but the line, and a problem on one holds all back.
    """
    jobs: dict[str, list[Row]] = {}
    for row in rows:
        if row.values.get("number"):
            jobs.setdefault(row.values["number"], []).append(row)
    for number, same in jobs.items():
        first = same[0]
        for row in same[1:]:
            differ = [
                column.name
                for column in COLUMNS
                if not column.of_line
                and row.values.get(column.name) != first.values.get(column.name)
            ]
            if differ:
                row.errors.append(
                    f"row {row.line}: job {number} is also on row {first.line}, with a different "
                    f"{', '.join(differ)}; a job's rows differ only in their line_ columns"
                )
        bad = next((row for row in same if row.errors), None)
        for row in same:
            if bad and not row.errors:
                row.errors.append(
                    f"row {row.line}: job {number} is held back by the problem on row {bad.line}"
                )


def _crews_check(rows: list[Row]) -> None:
    """Note, once each, a crew the hub does not have yet: importing adds it, so a typo shows."""
    crews = list(Crew.objects.values_list("name", flat=True))
    seen = {name.lower() for name in crews}
    for row in rows:
        crew = row.values.get("crew", "")
        if crew and crew.lower() not in seen:
            seen.add(crew.lower())
            row.notes.append(
                f"row {row.line}: crew '{crew}' is not one of the hub's crews "
                f"({', '.join(crews) or 'none yet'}); importing adds it"
            )


def _good_rows(rows: list[Row], skip_bad: bool) -> list[dict]:
    """Return the good rows' values; with a bad row, refuse them all unless told to skip."""
    bad = sum(1 for row in rows if row.errors)
    if bad and not skip_bad:
        raise ImportRefused(
            f"{ngettext('%(n)d row has problems', '%(n)d rows have problems', bad) % {'n': bad}}; "
            "nothing was imported. Fix them, "
            "or tick 'skip the rows with problems'."
        )
    return [row.values for row in rows if not row.errors]


def _customers(names: list[str]) -> dict[str, Customer]:
    """Return the customers with these names, in any case, by their name in lower case."""
    wanted = {name.lower() for name in names}
    found = Customer.objects.annotate(key=Lower("name")).filter(key__in=wanted)
    return {customer.name.lower(): customer for customer in found}


def _customer_upsert(
    *, customers: dict[str, Customer], name: str, details: dict[str, str], by
) -> str:
    """Create the customer, or set the details given; return created, updated or unchanged."""
    customer = customers.get(name.lower())
    if customer is None:
        customers[name.lower()] = customer_create(name=name, by=by, **details)
        return "created"
    # The name matched (in any case) and keeps its spelling; blanks change nothing.
    changes = {k: v for k, v in details.items() if v and getattr(customer, k) != v}
    if not changes:
        return "unchanged"
    customer_fields_set(customer=customer, changes=changes, by=by)
    for key, value in changes.items():
        setattr(customer, key, value)
    return "updated"


def _lines(job: Job, rows: list[dict]) -> list[JobLine]:
    """Return the lines a job's rows give (a row without a line description gives none)."""
    return [
        JobLine(
            job=job,
            position=position,
            description=values["line_description"],
            item_code=values["line_item_code"],
            quantity=Decimal("1") if values["line_quantity"] is None else values["line_quantity"],
            unit_price=values["amount"]
            if values["line_unit_price"] is None
            else values["line_unit_price"],
            tax=values["line_tax"],
        )
        for position, values in enumerate(v for v in rows if v["line_description"])
    ]


def _job_write(*, job: Job, fields: dict, rows: list[dict], by) -> str:
    """Create the job with its lines, or change it; return created, updated or unchanged."""
    created = job.pk is None
    if not created and all(getattr(job, k) == v for k, v in fields.items()):
        return "unchanged"
    for name, value in fields.items():
        setattr(job, name, value)
    job._history_user = by
    job.save()
    if created:
        JobLine.objects.bulk_create(_lines(job, rows))
    event_record(job=job, type="job.imported", data={"created": created}, by=by)
    return "created" if created else "updated"


@transaction.atomic
def rows_apply(*, rows: list[Row], skip_bad: bool, by=None) -> dict[str, int]:
    """Create or update one job per number in the good rows; all or nothing.

    A new job gets the lines its rows give; a job that exists keeps its lines.
    """
    good = _good_rows(rows, skip_bad)
    by_number: dict[str, list[dict]] = {}
    for values in good:
        by_number.setdefault(values["number"], []).append(values)
    customers = _customers([values["customer"] for values in good])
    crews = {crew.name.lower(): crew for crew in Crew.objects.all()}
    jobs = {job.number: job for job in Job.objects.filter(number__in=by_number)}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": len(rows) - len(good)}
    for number, job_rows in by_number.items():
        values = job_rows[0]
        details = {"email": values["customer_email"], "phone": values["customer_phone"]}
        customer_outcome = _customer_upsert(
            customers=customers, name=values["customer"], details=details, by=by
        )
        crew = None
        if values["crew"]:
            crew = crews.get(values["crew"].lower()) or Crew.objects.create(name=values["crew"])
            crews[crew.name.lower()] = crew
        fields = {name: values[name] for name in JOB_FIELDS} | {
            "customer": customers[values["customer"].lower()],
            "crew": crew,
        }
        job = jobs.get(number) or Job(number=number)
        outcome = _job_write(job=job, fields=fields, rows=job_rows, by=by)
        if outcome == "unchanged" and customer_outcome == "updated":
            outcome = "updated"  # the row changed its customer's email or phone
        counts[outcome] += 1
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
    good = _good_rows(rows, skip_bad)
    customers = _customers([values["name"] for values in good])
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": len(rows) - len(good)}
    for values in good:
        details = {k: values[k] for k in CUSTOMER_COLUMNS if k not in ("name", "address")}
        details |= address_parts(values["address"]) if values["address"] else {}
        outcome = _customer_upsert(customers=customers, name=values["name"], details=details, by=by)
        counts[outcome] += 1
    return counts
