"""Delivery evidence is served to office staff only, through a view, whatever DEBUG says."""

import importlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import clear_url_caches, reverse

import integration_hub.urls
from operations.models import JobEvidence
from operations.services import evidence_add
from tests.operations.factories import JobFactory
from tests.operations.test_job_rules import JPEG, PDF

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["DEBUG off", "DEBUG on"])
def debug(request, settings, tmp_path):
    """Load the URLconf as the hub would start in that mode, so no DEBUG-only route hides."""
    settings.MEDIA_ROOT = tmp_path
    settings.DEBUG = request.param
    importlib.reload(integration_hub.urls)
    clear_url_caches()
    yield request.param
    settings.DEBUG = False
    importlib.reload(integration_hub.urls)
    clear_url_caches()


def upload(name: str, content: bytes) -> JobEvidence:
    return evidence_add(job=JobFactory(), upload=SimpleUploadedFile(name, content))


def url(evidence: JobEvidence) -> str:
    return reverse("operations:evidence", args=[evidence.job.number, evidence.pk])


def test_anonymous_visitors_and_plain_logins_get_no_evidence(debug, django_user_model):
    photo = upload("site.jpg", JPEG)
    anonymous = Client().get(url(photo))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    plain = Client()
    plain.force_login(django_user_model.objects.create_user("customer"))
    assert plain.get(url(photo)).status_code == 403
    # The file's place under MEDIA_ROOT is no URL at all, for anyone.
    assert Client().get(f"/media/{photo.file.name}").status_code == 404
    assert plain.get(f"/media/{photo.file.name}").status_code == 404


def test_staff_see_photos_and_pdfs_in_the_browser(debug, client, office_staff):
    client.force_login(office_staff)
    for name, content, kind in (
        ("site.jpg", JPEG, "image/jpeg"),
        ("sign-off.pdf", PDF, "application/pdf"),
    ):
        evidence = upload(name, content)
        response = client.get(url(evidence))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == content
        assert response["Content-Type"] == kind
        assert response["Content-Disposition"] == f'inline; filename="{name}"'
        assert response["X-Content-Type-Options"] == "nosniff"
    # The job page links to the view, never to the file's storage path.
    page = client.get(reverse("operations:job_detail", args=[evidence.job.number])).content
    assert url(evidence).encode() in page and b"/media/" not in page


def test_a_file_of_any_other_type_is_only_downloaded(debug, client, office_staff):
    client.force_login(office_staff)
    page = JobEvidence.objects.create(
        job=JobFactory(),
        file=ContentFile(b"<script>alert(1)</script>", name="notes.html"),
        kind="document",
        content_type="text/html",
        size=25,
    )
    response = client.get(url(page))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="notes.html"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_evidence_is_found_only_under_its_own_job_and_only_while_its_file_exists(
    debug, client, office_staff
):
    client.force_login(office_staff)
    photo = upload("site.jpg", JPEG)
    other = JobFactory()
    assert (
        client.get(reverse("operations:evidence", args=[other.number, photo.pk])).status_code == 404
    )
    photo.file.storage.delete(photo.file.name)
    assert client.get(url(photo)).status_code == 404
    assert client.post(url(upload("b.jpg", JPEG))).status_code == 405
