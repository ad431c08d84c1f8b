"""Operations staff in a real browser: today's jobs, a photo, the sign-off, the inbox."""

from pathlib import Path

from playwright.sync_api import expect

from operations.models import Job
from tests.browser.conftest import log_in, shoot, unlabelled_fields
from tests.operations.factories import CrewFactory, JobFactory, JobLineFactory
from tests.operations.test_job_rules import JPEG


def test_staff_find_todays_job_add_a_photo_and_sign_it_off(
    hub, page, staff_login, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    job = JobLineFactory(
        job__title="Replace hot water system", job__crew=CrewFactory(name="Blue")
    ).job
    photo = tmp_path / "finished.jpg"
    photo.write_bytes(JPEG)

    log_in(page, hub.url)
    page.get_by_role("link", name="Jobs").click()
    page.get_by_role("link", name="Today's jobs").click()
    expect(page.get_by_role("status")).to_contain_text("1 job scheduled today")
    shoot(page, "jobs-today")
    page.get_by_role("link", name=job.number).click()
    assert unlabelled_fields(page) == []
    page.get_by_label("Photo (JPEG, PNG, WebP, HEIC) or PDF, up to 10 MB").set_input_files(
        str(photo)
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("'finished.jpg' added to the job.")
    page.get_by_label("Sign-off: what was done?").fill("New 250L unit installed and tested.")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("status")).to_contain_text(f"Job {job.number} marked done")
    shoot(page, "job-done")
    assert Job.objects.get(pk=job.pk).status == "done"
    assert Path(tmp_path, "jobs", job.number, "finished.jpg").exists()

    page.get_by_role("link", name="Inbox").click()
    row = page.get_by_role("row").filter(has_text="Job done and signed off")
    expect(row).to_contain_text(job.number)
    shoot(page, "inbox")


def test_on_a_phone_job_numbers_stay_whole_and_an_unbooked_job_says_so(
    live_server, browser, staff_login
):
    unbooked = JobFactory(status="scheduled", scheduled_start=None, title="Gutter repair")
    JobFactory(title="Switchboard upgrade for the whole building", site_address="A long way")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/jobs/")
    for link in page.get_by_role("link", name="J-").all():
        assert link.evaluate("a => a.getClientRects().length") == 1, link.inner_text()
    row = page.get_by_role("row").filter(has_text=unbooked.number)
    expect(row).to_contain_text("Not booked yet")
    shoot(page, "jobs-phone")

    page.get_by_role("link", name=unbooked.number).click()
    expect(page.locator(".facts .badge")).to_have_text("Not booked yet")

    page.goto(f"{live_server.url}/jobs/J-0000/")
    expect(page.get_by_role("heading", name="There is no such page")).to_be_visible()
    page.get_by_role("link", name="Go to the hub's home page").click()
    expect(page).to_have_url(f"{live_server.url}/")
    context.close()


def test_staff_make_a_line_gst_free_and_the_jobs_gst_follows(live_server, page, staff_login):
    line = JobLineFactory(
        description="Permit fee", quantity=1, unit_price="100.05", job__title="Council permit"
    )
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/jobs/{line.job.number}/")
    figures = page.locator("#figures")
    expect(figures.get_by_role("row", name="GST")).to_contain_text("AUD 10.01")  # 10.005 up
    assert unlabelled_fields(page) == []
    page.get_by_label("Tax on Permit fee").select_option("gst_free")
    page.get_by_role("button", name="Save how the lines are taxed").click()
    expect(page.get_by_role("status")).to_contain_text("Tax changed on 1 line(s).")
    expect(figures.get_by_role("row", name="GST")).to_contain_text("AUD 0.00")
    expect(figures.get_by_role("row", name="Total", exact=False).last).to_contain_text("AUD 100.05")
    shoot(page, "job-line-tax")
