"""On a phone 390 px wide, as operations staff use the hub on site: the review queue, the
job list, every job page and every item page of the demo's business fit the screen (nothing
scrolls sideways), and the main actions, Mark done and each way to resolve an item, can be
seen and pressed. Mark done pressed for real on a phone: tests/browser/test_live_pages.py."""

from playwright.sync_api import expect

from operations.models import Job
from review_queue.models import ReviewItem
from tests.browser.conftest import log_in, shoot, sideways_scroll


def test_on_a_phone_the_queue_the_jobs_and_every_job_and_item_fit_the_screen(demo_business, phone):
    url = demo_business.url
    log_in(phone, url, "staff", "staff-demo-pass")
    pages = {"review-queue": "/review/", "jobs": "/jobs/", "home": "/"}
    pages |= {f"job-{job.number}": f"/jobs/{job.number}/" for job in Job.objects.all()}
    pages |= {f"item-{item.pk}": f"/review/{item.pk}/" for item in ReviewItem.objects.all()}
    too_wide = {}
    for name, path in pages.items():
        phone.goto(f"{url}{path}")
        if sideways_scroll(phone):
            too_wide[path] = f"{sideways_scroll(phone)} px too wide"
        shoot(phone, f"phone-{name}")
    assert too_wide == {}
    assert len(pages) >= 3 + 3 + 6


def test_on_a_phone_mark_done_and_every_resolve_action_can_be_pressed(demo_business, phone):
    url = demo_business.url
    log_in(phone, url, "staff", "staff-demo-pass")
    job = Job.objects.filter(status="in_progress").order_by("number").first()
    phone.goto(f"{url}/jobs/{job.number}/")
    phone.get_by_label("Sign-off: what was done?").fill("Lights tested with the owner.")
    done = phone.get_by_role("button", name="Mark done")
    expect(done).to_be_visible()
    done.click(trial=True)  # visible, enabled, on screen and not covered: pressable

    pressed = 0
    for item in ReviewItem.objects.filter(status="open"):
        phone.goto(f"{url}/review/{item.pk}/")
        for button in phone.locator("form button").all():
            if button.inner_text() == "Log out":
                continue
            expect(button).to_be_visible()
            button.click(trial=True)
            pressed += 1
    assert pressed >= 12  # two or more ways to resolve each of the six items

    # What an action will do is shown before it is done, on the phone too.
    item = ReviewItem.objects.get(kind="quote_changed")
    phone.goto(f"{url}/review/{item.pk}/")
    phone.get_by_role("button", name="Apply to the job…").click()
    confirm = phone.get_by_role("button", name="Confirm")
    expect(confirm).to_be_visible()
    confirm.click(trial=True)
    assert sideways_scroll(phone) == 0
    shoot(phone, "phone-item-preview")
