"""Operations pages and the jobs API: filters, actions, import preview, permissions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from operations.models import Job
from tests.helpers import api_for
from tests.operations.factories import CrewFactory, JobFactory, JobLineFactory
from tests.operations.test_job_rules import JPEG

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, office_staff):
    client.force_login(office_staff)
    return office_staff


def numbers(response) -> list[str]:
    return [job.number for job in response.context["page"].object_list]


def test_the_list_filters_by_today_status_crew_and_search(client, staff):
    blue = CrewFactory(name="Blue")
    today = JobFactory(crew=blue, title="Kitchen rewire")
    JobFactory(scheduled_start=timezone.now() + timezone.timedelta(days=3), status="scheduled")
    assert numbers(client.get("/jobs/", {"today": "1"})) == [today.number]
    assert numbers(client.get("/jobs/", {"crew": blue.pk})) == [today.number]
    assert numbers(client.get("/jobs/", {"q": "kitchen"})) == [today.number]
    assert len(numbers(client.get("/jobs/", {"status": "scheduled"}))) == 1


def test_the_export_follows_the_filters(client, staff):
    JobFactory(title="Wanted")
    JobFactory(title="Other", status="scheduled")
    body = client.get("/jobs/", {"status": "in_progress", "export": "csv"}).content.decode()
    assert "Wanted" in body and "Other" not in body


def test_a_job_with_no_booking_reads_not_booked_yet_never_scheduled(client, staff):
    job = JobFactory(status="scheduled", scheduled_start=None)
    for page in (client.get("/jobs/"), client.get(f"/jobs/{job.number}/")):
        html = page.content.decode()
        assert '<span class="badge">Not booked yet</span>' in html
        assert '<span class="badge">Scheduled</span>' not in html
    job.scheduled_start = timezone.now()
    job.save()
    assert '<span class="badge">Scheduled</span>' in client.get("/jobs/").content.decode()


def test_the_schedule_shows_the_week(client, staff):
    job = JobFactory()
    page = client.get("/jobs/schedule/").content.decode()
    assert job.number in page


def test_staff_upload_a_photo_and_mark_the_job_done_from_its_page(
    client, staff, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    job = JobLineFactory().job
    client.post(f"/jobs/{job.number}/evidence/", {"file": SimpleUploadedFile("a.jpg", JPEG)})
    response = client.post(f"/jobs/{job.number}/done/", {"note": "All tested."}, follow=True)
    assert f"Job {job.number} marked done" in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.completed_by, job.evidence.count()) == ("done", staff, 1)


def test_mark_done_on_a_job_without_lines_is_refused_on_the_page(client, staff):
    job = JobFactory()
    response = client.post(f"/jobs/{job.number}/done/", {"note": "x"}, follow=True)
    assert "no line items" in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == "in_progress"


def test_an_import_is_previewed_before_anything_is_written(client, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = (
        b"number,customer,title,status\nJ-7001,Cafe,Paint,finished\nJ-7002,Cafe,Fix,scheduled\n"
    )
    response = client.post(
        "/jobs/import/", {"file": SimpleUploadedFile("jobs.csv", content)}, follow=True
    )
    page = response.content.decode()
    assert "unknown status &#x27;finished&#x27;" in page and not Job.objects.exists()
    preview_url = response.redirect_chain[-1][0]
    client.post(preview_url, {})
    assert not Job.objects.exists()  # all or nothing
    client.post(preview_url, {"skip_bad": "on"})
    assert list(Job.objects.values_list("number", flat=True)) == ["J-7002"]


def test_the_api_needs_a_staff_token(django_user_model):
    JobFactory()
    assert APIClient().get("/api/jobs/").status_code == 401
    outsider = django_user_model.objects.create_user("field-app-without-group")
    assert api_for(outsider).get("/api/jobs/").status_code == 403


def test_the_api_moves_a_job_through_the_same_rules(staff):
    api, job = api_for(staff), JobLineFactory(job__status="scheduled").job
    ok = api.patch(f"/api/jobs/{job.number}/", {"status": "in_progress"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "in_progress"
    refused = api.patch(f"/api/jobs/{job.number}/", {"status": "paid"}, format="json")
    assert refused.status_code == 400 and "cannot become 'paid'" in refused.json()["status"]
    done = api.patch(
        f"/api/jobs/{job.number}/", {"status": "done", "completion_note": "Finished"}, format="json"
    )
    assert done.json()["status"] == "done"


def test_the_api_refuses_unknown_and_read_only_fields(staff):
    job = JobFactory()
    response = api_for(staff).patch(
        f"/api/jobs/{job.number}/", {"amount": "1", "colour": "red"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"amount", "colour"}
    assert "editable fields are" in response.json()["colour"]
