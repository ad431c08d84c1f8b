"""The README's screenshots (docs/screenshots/), taken from the demo's business each time the
browser tests run, so they show the pages as they are. A file changes only when its page
looks different (conftest.shoot_for_docs); commit it then."""

from playwright.sync_api import expect

from operations.models import Job
from review_queue.models import ReviewItem
from tests.browser.conftest import DOCS_SCREENSHOTS, PHONE, log_in, shoot_for_docs

SHOTS = ("home", "review-queue", "review-item", "job", "review-queue-phone")


def test_the_readme_shows_home_the_queue_an_item_and_a_job(demo_business, browser):
    url = demo_business.url
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    log_in(page, url, "staff", "staff-demo-pass")
    expect(page.get_by_role("heading", name="How the hub is doing")).to_be_visible()
    shoot_for_docs(page, "home")

    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("status")).to_have_text("6 items.")
    shoot_for_docs(page, "review-queue")

    page.get_by_role("link", name="Quote changed after work started").click()
    expect(page.get_by_role("button", name="Apply to the job…")).to_be_visible()
    shoot_for_docs(page, "review-item")

    # Its number depends on the jobs the suite made before (J-1001 in the demo).
    job = Job.objects.get(title="Harbour View Cafe - kitchen rewire")
    page.goto(f"{url}/jobs/{job.number}/")
    expect(page.locator("#job-finance")).to_contain_text("Not invoiced yet.")
    shoot_for_docs(page, "job")

    page.set_viewport_size(PHONE)
    page.goto(f"{url}/review/")
    shoot_for_docs(page, "review-queue-phone", full_page=False)
    context.close()

    assert ReviewItem.objects.filter(status="open").count() == 6
    assert all((DOCS_SCREENSHOTS / f"{name}.png").exists() for name in SHOTS)
