"""The import preview says what the file says and what confirming will do."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from operations.models import Crew, Job
from tests.operations.factories import CrewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def preview(client, office_staff, settings, tmp_path):
    """Upload a CSV as office staff; return the preview page and its address."""
    client.force_login(office_staff)
    settings.MEDIA_ROOT = tmp_path

    def upload(content: str) -> tuple[str, str]:
        file = SimpleUploadedFile("jobs.csv", content.encode())
        response = client.post("/jobs/import/", {"file": file}, follow=True)
        return response.content.decode(), response.redirect_chain[-1][0]

    return upload


def test_a_bad_row_shows_the_status_and_start_the_file_gives(preview):
    page, _ = preview(
        "number,customer,title,status,scheduled_start\nJ-7001,Cafe,Paint,finished,tomorrow\n"
    )
    assert "<td>finished</td>" in page and "<td>tomorrow</td>" in page
    assert "<td>scheduled</td>" not in page


def test_the_import_button_counts_only_the_rows_that_can_import(client, preview):
    page, url = preview(
        "number,customer,title,status\n"
        "J-7001,Cafe,Paint,finished\nJ-7002,Cafe,Fix,\nJ-7003,Cafe,Tag,done\n"
    )
    assert "Import 2 rows</button>" in page and "Import 3 rows" not in page
    assert 'name="skip_bad" required' in page  # the button imports 2 only with the box ticked
    client.post(url, {"skip_bad": "on"})
    assert sorted(Job.objects.values_list("number", flat=True)) == ["J-7002", "J-7003"]


def test_a_file_with_no_row_that_can_import_offers_no_import_button(preview):
    page, _ = preview("number,customer,title,status\nJ-7001,Cafe,Paint,finished\n")
    assert "No row can be imported as it is" in page and "Import 1 row" not in page


def test_a_crew_the_hub_does_not_have_is_listed_once_before_importing(client, preview):
    CrewFactory(name="Blue")
    page, url = preview(
        "number,customer,title,crew\nJ-7001,Cafe,Paint,Bleu\nJ-7002,Cafe,Fix,blue\n"
        "J-7003,Cafe,Tag,bleu\n"
    )
    note = (
        "row 2: crew &#x27;Bleu&#x27; is not one of the hub&#x27;s crews (Blue); importing adds it"
    )
    assert note in page and page.count("is not one of the hub&#x27;s crews") == 1
    client.post(url, {})
    assert sorted(Crew.objects.values_list("name", flat=True)) == ["Bleu", "Blue"]
