"""Status transitions, the mark-done sign-off, and evidence checks."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from operations import services
from operations.models import Job, JobEvent
from operations.transitions import TransitionRefused, next_statuses
from tests.operations.factories import JobFactory, JobLineFactory

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("scheduled", "in_progress"),
        ("in_progress", "on_hold"),
        ("on_hold", "scheduled"),
        ("scheduled", "cancelled"),
        ("done", "in_progress"),
    ],
)
def test_allowed_transitions_move_the_job_and_record_an_event(start, to):
    job = JobFactory(status=start)
    services.job_transition(job=job, to=to)
    job.refresh_from_db()
    assert job.status == to
    event = JobEvent.objects.get(job=job, type="job.status_changed")
    assert event.data == {"from": start, "to": to}


@pytest.mark.parametrize(
    ("start", "to", "message"),
    [
        ("scheduled", "invoiced", "cannot become 'invoiced'"),
        ("cancelled", "scheduled", r"none \(this status is final\)"),
        ("done", "invoiced", "follows the invoice in Xero"),
        ("in_progress", "finished", "Unknown status 'finished'"),
        ("in_progress", "done", "needs a sign-off"),
    ],
)
def test_refused_transitions_say_why_and_change_nothing(start, to, message):
    job = JobFactory(status=start)
    with pytest.raises(TransitionRefused, match=message):
        services.job_transition(job=job, to=to)
    job.refresh_from_db()
    assert job.status == start
    assert not JobEvent.objects.filter(type="job.status_changed").exists()


def test_finance_may_move_a_done_job_to_invoiced():
    job = JobFactory(status="done")
    services.job_transition(job=job, to="invoiced", by_finance=True)
    assert Job.objects.get(pk=job.pk).status == "invoiced"


def test_people_are_offered_only_the_statuses_they_may_set():
    assert [v for v, _ in next_statuses(JobFactory(status="done"))] == ["in_progress"]


def test_mark_done_records_the_sign_off_and_a_completed_event(django_user_model):
    user = django_user_model.objects.create_user("tech")
    job = JobLineFactory().job
    services.job_complete(job=job, by=user, note="Replaced switchboard, tested RCDs.")
    job.refresh_from_db()
    assert (job.status, job.completed_by, job.completion_note) == (
        "done",
        user,
        "Replaced switchboard, tested RCDs.",
    )
    event = JobEvent.objects.get(type="job.completed")
    assert event.data["by"] == "tech" and event.actor == user
    assert job.history.first().history_user == user


def test_mark_done_refuses_a_job_without_lines_or_a_sign_off():
    job = JobFactory()
    with pytest.raises(TransitionRefused) as refused:
        services.job_complete(job=job, by=None, note=" ")
    assert "no line items" in str(refused.value) and "sign-off note is empty" in str(refused.value)
    assert Job.objects.get(pk=job.pk).status == "in_progress"


def test_mark_done_refuses_a_job_that_has_not_started():
    job = JobLineFactory(job__status="scheduled").job
    with pytest.raises(TransitionRefused, match="cannot become 'done'"):
        services.job_complete(job=job, by=None, note="done")


def test_a_photo_and_a_pdf_are_kept_as_evidence(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = JobFactory()
    photo = services.evidence_add(job=job, upload=SimpleUploadedFile("site.jpg", JPEG))
    document = services.evidence_add(job=job, upload=SimpleUploadedFile("coc.pdf", PDF))
    assert (photo.kind, photo.content_type) == ("photo", "image/jpeg")
    assert (document.kind, document.content_type) == ("document", "application/pdf")
    assert photo.file.name == f"jobs/{job.number}/site.jpg"
    assert JobEvent.objects.filter(type="job.evidence_added").count() == 2


def test_evidence_over_the_size_limit_is_refused(settings, tmp_path):
    settings.MEDIA_ROOT, settings.EVIDENCE_MAX_BYTES = tmp_path, 100
    with pytest.raises(services.EvidenceRefused, match="the limit is"):
        services.evidence_add(job=JobFactory(), upload=SimpleUploadedFile("big.jpg", JPEG))


def test_evidence_is_judged_by_its_content_not_its_name(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(services.EvidenceRefused, match="not a photo"):
        services.evidence_add(
            job=JobFactory(), upload=SimpleUploadedFile("invoice.jpg", b"MZ\x90\x00 not a photo")
        )


def test_reschedule_and_site_changes_record_before_and_after():
    job = JobFactory(site_address="Old St")
    services.job_site_update(job=job, site_address="New St", site_contact="", site_notes="")
    services.job_reschedule(job=job, start=None, end=None, crew=None)
    site = JobEvent.objects.get(type="job.site_changed")
    assert site.data == {"site_address": {"before": "Old St", "after": "New St"}}
    assert JobEvent.objects.get(type="job.rescheduled").data["after"]["start"] is None
