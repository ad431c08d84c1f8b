"""The drift report: every check's counts, a chart, one check's findings and their CSV; the
home page shows the last check."""

import pytest
from django.test import Client

from handoffs.models import ReconcileFinding, ReconcileRun
from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(office_staff) -> Client:
    client = Client()
    client.force_login(office_staff)
    return client


@pytest.fixture
def checked() -> ReconcileRun:
    ReconcileRun.objects.create(state="failed", problem="Xero did not answer.", records=3)
    run = ReconcileRun.objects.create(state="done", records=120, fields=900, carried=2, flagged=1)
    item = ReviewItemFactory(kind="disagreement")
    ReconcileFinding.objects.create(
        run=run, kind="flagged", record_label="Greenway", field="phone", review_item=item
    )
    ReconcileFinding.objects.create(
        run=run, kind="invoice_without_job", record_label='=HYPERLINK("http://x")'
    )
    return run


def test_the_report_shows_each_check_and_the_chosen_ones_findings(staff, checked):
    page = staff.get("/drift/").content.decode()
    assert "Did not finish" in page and "Xero did not answer." not in page  # latest chosen
    assert "Sent to review (the systems disagree)" in page and "Greenway" in page
    assert page.count("<rect") == 2  # a bar per check
    older = ReconcileRun.objects.get(state="failed")
    assert "Xero did not answer." in staff.get(f"/drift/?run={older.pk}").content.decode()
    only = staff.get(f"/drift/?run={checked.pk}&kind=invoice_without_job").content.decode()
    assert "HYPERLINK" in only and "Greenway" not in only


def test_the_findings_download_disarms_spreadsheet_formulas(staff, checked):
    response = staff.get(f"/drift/{checked.pk}/findings.csv")
    text = response.content.decode("utf-8-sig")
    assert response["Content-Disposition"].startswith('attachment; filename="drift-')
    assert text.splitlines()[0].startswith("found,record type,record")
    assert "'=HYPERLINK" in text and '\n"=HYPERLINK' not in text


def test_home_shows_the_last_check(staff, checked):
    page = staff.get("/").content.decode()
    assert "Last check that the systems agree" in page
    assert f"?run={checked.pk}" in page and "120 records" in page


def test_a_check_asked_for_from_the_page_starts_after_the_request(
    staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as started:
        response = staff.post("/drift/check/")
    assert response.status_code == 302 and len(started) == 1
    ReconcileRun.objects.create()  # one is running now
    with django_capture_on_commit_callbacks() as started:
        staff.post("/drift/check/")
    assert not started
