"""Jobs and customers from a spreadsheet (CSV or XLSX): parse, check every row, then apply."""

import csv
import io
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import ngettext
from openpyxl import load_workbook
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from integration_hub.spreadsheets import formula_restore
from operations.addresses import address_parts
from operations.columns import COLUMNS, NAMES, REQUIRED
from operations.events import events_record
from operations.models import IMPORT_STALE, Crew, Customer, Job, JobEvent, JobImport, JobLine
from operations.services import customers_fields_set

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


# Jobs written per chunk: a few statements each, and a step of the progress bar.
CHUNK = 500
# A jobs file with more rows than this is imported by a worker, with a progress bar.
BACKGROUND_ROWS = 1000


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


def _customers_upsert(*, entries: list[tuple[str, dict]], by) -> tuple[dict, list[str]]:
    """Create or update the customers the entries name (name, details), in a few statements.

    Entries apply in order: a name unknown in any case creates its customer, spelled as it
    first appears; then each entry's non-blank details change it. Return the customers by
    lower-case name and, per entry, created, updated or unchanged.
    """
    customers = _customers([name for name, _ in entries])
    fresh: dict[str, Customer] = {}
    changes: dict[str, dict[str, str]] = {}
    outcomes = []
    for name, details in entries:
        key = name.lower()
        customer = customers.get(key)
        if customer is None:
            customers[key] = fresh[key] = Customer(name=name, **details)
            outcomes.append("created")
            continue
        changed = {k: v for k, v in details.items() if v and getattr(customer, k) != v}
        for k, v in changed.items():
            setattr(customer, k, v)
        if changed and key not in fresh:
            changes.setdefault(key, {}).update(changed)
        outcomes.append("updated" if changed else "unchanged")
    if fresh:
        created = bulk_create_with_history(
            list(fresh.values()), Customer, default_user=by, batch_size=CHUNK
        )
        events_record(
            [JobEvent(type="customer.created", customer=c, data={}, actor=by) for c in created]
        )
    if changes:
        customers_fields_set(changes={customers[k].pk: v for k, v in changes.items()}, by=by)
    return customers, outcomes


def _crews(names: list[str]) -> dict[str, Crew]:
    """Return the hub's crews by lower-case name, adding those named that it does not have."""
    crews = {crew.name.lower(): crew for crew in Crew.objects.all()}
    missing: dict[str, Crew] = {}
    for name in names:
        if name and name.lower() not in crews:
            missing.setdefault(name.lower(), Crew(name=name))
    added = Crew.objects.bulk_create(missing.values(), batch_size=CHUNK)
    return crews | {crew.name.lower(): crew for crew in added}


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


def _jobs_write(*, groups: list[list[dict]], by) -> list[str]:
    """Create or change the jobs of these groups of rows (one group per number) in a few
    statements, with their history and one job.imported event each; return, per group,
    created, updated or unchanged."""
    firsts = [rows[0] for rows in groups]
    customers, customer_outcomes = _customers_upsert(
        entries=[
            (v["customer"], {"email": v["customer_email"], "phone": v["customer_phone"]})
            for v in firsts
        ],
        by=by,
    )
    crews = _crews([v["crew"] for v in firsts])
    jobs = Job.objects.in_bulk([v["number"] for v in firsts], field_name="number")
    new, changed, outcomes = [], [], []
    for rows, customer_outcome in zip(groups, customer_outcomes, strict=True):
        values = rows[0]
        fields = {name: values[name] for name in JOB_FIELDS} | {
            "customer_id": customers[values["customer"].lower()].pk,
            "crew_id": crews[values["crew"].lower()].pk if values["crew"] else None,
        }
        job = jobs.get(values["number"])
        if job is None:
            new.append((Job(number=values["number"], **fields), rows))
            outcomes.append("created")
        elif any(getattr(job, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(job, k, v)
            changed.append(job)
            outcomes.append("updated")
        else:
            # The row may still have changed its customer's email or phone.
            outcomes.append("updated" if customer_outcome == "updated" else "unchanged")
    created = []
    if new:
        created = bulk_create_with_history([job for job, _ in new], Job, default_user=by)
        lines = [
            line for job, (_, rows) in zip(created, new, strict=True) for line in _lines(job, rows)
        ]
        JobLine.objects.bulk_create(lines, batch_size=CHUNK)
    if changed:
        now = timezone.now()
        for job in changed:
            job.updated_at = now  # as save() would (auto_now)
        names = [*JOB_FIELDS, "customer", "crew", "updated_at"]
        bulk_update_with_history(changed, Job, names, default_user=by, batch_size=CHUNK)
    events_record(
        [JobEvent(type="job.imported", job=j, data={"created": True}, actor=by) for j in created]
        + [JobEvent(type="job.imported", job=j, data={"created": False}, actor=by) for j in changed]
    )
    return outcomes


def rows_apply(*, rows: list[Row], skip_bad: bool, by=None, progress=None) -> dict[str, int]:
    """Create or update one job per number in the good rows, CHUNK jobs at a time.

    A new job gets the lines its rows give; a job that exists keeps its lines. Without
    `progress` it is all or nothing. With it, each chunk commits on its own and
    `progress(rows_done)` follows it, so a page can show how far it got; if it stops half
    way, importing the file again finishes it (a job is matched by its number: nothing is
    made twice).
    """
    good = _good_rows(rows, skip_bad)
    by_number: dict[str, list[dict]] = {}
    for values in good:
        by_number.setdefault(values["number"], []).append(values)
    groups = list(by_number.values())
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": len(rows) - len(good)}
    done = 0
    with transaction.atomic() if progress is None else nullcontext():
        for start in range(0, len(groups), CHUNK):
            chunk = groups[start : start + CHUNK]
            with transaction.atomic():
                for outcome in _jobs_write(groups=chunk, by=by):
                    counts[outcome] += 1
            done += sum(len(group) for group in chunk)
            if progress is not None:
                progress(done)
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
    entries = []
    for values in good:
        details = {k: values[k] for k in CUSTOMER_COLUMNS if k not in ("name", "address")}
        details |= address_parts(values["address"]) if values["address"] else {}
        entries.append((values["name"], details))
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": len(rows) - len(good)}
    for outcome in _customers_upsert(entries=entries, by=by)[1]:
        counts[outcome] += 1
    return counts


def import_queue(*, pending: JobImport, rows: list[Row], skip_bad: bool) -> bool:
    """Mark a previewed jobs file (or one whose worker stalled) as waiting for a worker,
    refusing it as `rows_apply` would; return False when a worker has it or it is imported."""
    good = _good_rows(rows, skip_bad)
    stalled = timezone.now() - IMPORT_STALE
    return bool(
        JobImport.objects.filter(
            Q(state__in=(JobImport.State.PREVIEWED, JobImport.State.FAILED))
            | Q(
                state__in=(JobImport.State.QUEUED, JobImport.State.RUNNING), progress_at__lt=stalled
            ),
            pk=pending.pk,
            applied_at__isnull=True,
        ).update(
            state=JobImport.State.QUEUED,
            rows_total=len(good),
            rows_done=0,
            progress_at=timezone.now(),
            problem="",
        )
    )


def import_run(*, pending_id: int, skip_bad: bool, by_id: int | None) -> bool:
    """Apply a queued jobs file, saying after each chunk how many rows are done; return
    False when another worker is running it (ask again after IMPORT_STALE).

    1. Claim it: queued, or running with no progress for IMPORT_STALE (its worker died).
    2. Read and apply the file; each chunk commits, then its progress is saved.
    3. Save the counts, or the reason it stopped (importing again finishes it).
    """
    now = timezone.now()
    claimed = JobImport.objects.filter(
        Q(state=JobImport.State.QUEUED)
        | Q(state=JobImport.State.RUNNING, progress_at__lt=now - IMPORT_STALE),
        pk=pending_id,
    ).update(state=JobImport.State.RUNNING, rows_done=0, progress_at=now)
    if not claimed:
        return not JobImport.objects.filter(pk=pending_id, state=JobImport.State.RUNNING).exists()
    pending = JobImport.objects.get(pk=pending_id)
    mine = JobImport.objects.filter(pk=pending_id)

    def progress(done: int) -> None:
        mine.update(rows_done=done, progress_at=timezone.now())

    try:
        rows = rows_parse(pending.filename, pending.file.read())
        by = get_user_model().objects.filter(pk=by_id).first()
        counts = rows_apply(rows=rows, skip_bad=skip_bad, by=by, progress=progress)
    except ImportRefused as refused:
        mine.update(state=JobImport.State.FAILED, problem=str(refused))
        return True
    except Exception:
        mine.update(
            state=JobImport.State.FAILED,
            problem="The import stopped part way through (the technical reason is in the "
            "worker's log). Press Import again: the jobs already imported are matched by "
            "their number and never made twice.",
        )
        raise
    mine.update(state=JobImport.State.DONE, applied_at=timezone.now(), summary=counts)
    return True
