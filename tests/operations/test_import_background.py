"""Large imports: a few statements per chunk, a worker and a progress bar, nothing twice."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from operations import tasks
from operations.imports import ImportRefused, import_queue, import_run, rows_apply, rows_parse
from operations.models import Customer, Job, JobEvent, JobImport
from tests.operations.test_import_export import GOOD, as_csv

pytestmark = pytest.mark.django_db


def written() -> dict:
    """Everything an import writes, counted."""
    return {
        "jobs": Job.objects.count(),
        "job history": Job.history.count(),
        "customers": Customer.objects.count(),
        "customer history": Customer.history.count(),
        "events": JobEvent.objects.count(),
        "changed": sorted(Job.objects.values_list("updated_at", flat=True)),
    }


def test_importing_a_file_again_creates_and_changes_nothing(office_staff):
    content = as_csv(GOOD)
    rows_apply(rows=rows_parse("jobs.csv", content), skip_bad=False, by=office_staff)
    before = written()
    again = rows_apply(rows=rows_parse("jobs.csv", content), skip_bad=False, by=office_staff)
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "skipped": 0}
    assert written() == before


def test_an_import_keeps_history_and_emits_an_event_per_job_and_new_customer(office_staff):
    rows_apply(rows=rows_parse("jobs.csv", as_csv(GOOD)), skip_bad=False, by=office_staff)
    job = Job.objects.get(number="J-9001")
    assert [(h.history_type, h.history_user) for h in job.history.all()] == [("+", office_staff)]
    customer = Customer.objects.get()
    assert customer.history.get().history_user == office_staff
    assert sorted(JobEvent.objects.values_list("type", "data")) == [
        ("customer.created", {}),
        ("job.imported", {"created": True}),
        ("job.imported", {"created": True}),
    ]
    changed = [GOOD[0][:2] + ["Fix exhaust fan and light"] + GOOD[0][3:], GOOD[1]]
    rows_apply(rows=rows_parse("jobs.csv", as_csv(changed)), skip_bad=False, by=office_staff)
    job.refresh_from_db()
    assert [h.history_type for h in job.history.all()] == ["~", "+"]
    assert job.history.first().title == "Fix exhaust fan and light"
    assert JobEvent.objects.filter(type="job.imported", data={"created": False}).count() == 1


def test_a_row_that_changes_only_its_customers_email_counts_as_updated(office_staff):
    header = "number,customer,title,customer_email\n"
    rows_apply(rows=rows_parse("j.csv", f"{header}J-1,Cafe,Paint,\n".encode()), skip_bad=False)
    counts = rows_apply(
        rows=rows_parse("j.csv", f"{header}J-1,cafe,Paint,a@cafe.example\n".encode()),
        skip_bad=False,
        by=office_staff,
    )
    assert counts["updated"] == 1
    assert Customer.objects.get().email == "a@cafe.example"
    assert JobEvent.objects.filter(type="customer.changed").count() == 1


def test_progress_is_said_after_each_chunk(monkeypatch):
    monkeypatch.setattr("operations.imports.CHUNK", 1)
    said = []
    rows_apply(rows=rows_parse("jobs.csv", as_csv(GOOD)), skip_bad=False, progress=said.append)
    assert said == [1, 2]
    assert Job.objects.count() == 2


@pytest.fixture
def uploaded(client, office_staff, settings, tmp_path, monkeypatch):
    """A two-job file uploaded as office staff, with the background threshold at one row."""
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr("operations.views.BACKGROUND_ROWS", 1)
    client.force_login(office_staff)
    file = SimpleUploadedFile("jobs.csv", as_csv(GOOD))
    response = client.post("/jobs/import/", {"file": file})
    return response.url


def test_a_large_file_is_imported_by_a_worker_behind_a_progress_bar(
    client, office_staff, uploaded, monkeypatch, django_capture_on_commit_callbacks
):
    page = client.get(uploaded).content.decode()
    assert "imported in the background" in page
    sent = []
    monkeypatch.setattr(tasks.import_apply, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(uploaded, {})
    assert response.status_code == 302 and response.url == uploaded
    pending = JobImport.objects.get()
    assert sent == [(pending.pk, False, office_staff.pk)]
    assert (pending.state, pending.rows_total, Job.objects.count()) == ("queued", 2, 0)
    page = client.get(uploaded).content.decode()
    assert f'hx-get="/jobs/import/{pending.pk}/progress/"' in page  # it asks again
    assert "Waiting for a worker (2 rows)" in page

    tasks.import_apply(*sent[0])

    pending.refresh_from_db()
    assert (pending.state, pending.rows_done, Job.objects.count()) == ("done", 2, 2)
    assert pending.summary == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0}
    assert Job.objects.get(number="J-9001").history.get().history_user == office_staff
    partial = client.get(f"/jobs/import/{pending.pk}/progress/").content.decode()
    assert "hx-get" not in partial  # done: it stops asking
    assert 'value="2"' in partial and "2 new, 0 updated, 0 unchanged" in partial
    client.post(uploaded, {})  # pressing Import again on a done import does nothing
    assert Job.objects.count() == 2 and JobImport.objects.get().state == "done"


def test_a_running_import_is_not_claimed_twice_but_one_whose_worker_died_is(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    pending = JobImport.objects.create(filename="jobs.csv", state="running", rows_total=2)
    pending.file.save("jobs.csv", ContentFile(as_csv(GOOD)))
    JobImport.objects.filter(pk=pending.pk).update(progress_at=timezone.now())
    assert import_run(pending_id=pending.pk, skip_bad=False, by_id=None) is False
    # A second delivery of the task looks again once the first would count as stalled.
    with pytest.raises(Retry):
        tasks.import_apply(pending.pk, False, None)
    assert not Job.objects.exists()  # its worker is alive: left alone
    JobImport.objects.filter(pk=pending.pk).update(
        progress_at=timezone.now() - timedelta(minutes=6)
    )
    assert import_run(pending_id=pending.pk, skip_bad=False, by_id=None) is True
    assert Job.objects.count() == 2 and JobImport.objects.get().state == "done"
    assert import_run(pending_id=pending.pk, skip_bad=False, by_id=None) is True  # nothing to do
    assert Job.objects.count() == 2


def test_an_import_no_worker_took_up_says_so_and_can_be_pressed_again(
    client, office_staff, uploaded, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.import_apply, "delay", lambda *args: sent.append(args))
    client.post(uploaded, {})
    assert "Waiting for a worker" in client.get(uploaded).content.decode()
    JobImport.objects.update(progress_at=timezone.now() - timedelta(minutes=6))
    page = client.get(uploaded).content.decode()
    assert "The import has not moved since" in page and "Import 2 rows</button>" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(uploaded, {})
    pending = JobImport.objects.get()
    assert pending.state == "queued" and not pending.stalled
    assert sent == [(pending.pk, False, office_staff.pk)]


def test_a_refused_background_import_says_why_and_can_be_pressed_again(client, uploaded, settings):
    pending = JobImport.objects.get()
    bad = as_csv([GOOD[0], ["J-9004", "Cafe", "Paint", "finished", "", "", "", "", "", "", ""]])
    pending.file.save("jobs.csv", ContentFile(bad))
    with pytest.raises(ImportRefused, match="1 row has problems"):
        import_queue(pending=pending, rows=rows_parse("jobs.csv", bad), skip_bad=False)
    page = client.post(uploaded, {}, follow=True).content.decode()
    assert "1 row has problems; nothing was imported" in page
    assert JobImport.objects.get().state == ""
    # Refused by the worker (the file was checked with skip_bad, then run without it):
    JobImport.objects.filter(pk=pending.pk).update(state="queued")
    import_run(pending_id=pending.pk, skip_bad=False, by_id=None)
    page = client.get(uploaded).content.decode()
    assert "The import stopped.</p>" in page
    assert "1 row has problems" in page and "Import 1 row</button>" in page
    client.post(uploaded, {"skip_bad": "on"})
    assert JobImport.objects.get().state == "queued"
