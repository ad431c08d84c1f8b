"""Pages that keep up without a reload: the job page shows the invoice the worker made after
Mark done, and the review queue, the job list and Home say quietly what is new."""

import re

from playwright.sync_api import expect

from operations import services
from tests.browser.conftest import log_in, shoot, sideways_scroll
from tests.operations.factories import JobFactory, JobLineFactory
from tests.review_queue.factories import ReviewItemFactory
from tests.xero_helpers import connect_xero, won_job


def tab_seen(page, state: str) -> None:
    """Make the page's tab hidden or visible, as switching tabs does."""
    page.evaluate(
        """state => {
            Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        state,
    )


def test_on_a_phone_mark_done_and_the_job_page_shows_the_invoice_without_a_reload(
    hub, phone, staff_login, settings
):
    settings.PAGE_POLL_SECONDS = 1
    connect_xero(hub)
    job = won_job(hub, "safety switch upgrade")
    services.job_transition(job=job, to="in_progress")
    # Xero takes a while to answer, so the page is drawn before the invoice exists.
    hub.xero.store.fault_add(operation="PUT /Invoices", latency_ms=3000)

    log_in(phone, hub.url)
    phone.goto(f"{hub.url}/jobs/{job.number}/")
    phone.get_by_label("Sign-off: what was done?").fill("Twelve RCBOs fitted and tested.")
    phone.get_by_role("button", name="Mark done").click()
    expect(phone.get_by_role("status")).to_contain_text(f"Job {job.number} marked done")
    finance = phone.locator("#job-finance")
    expect(finance).to_contain_text("Not invoiced yet.")
    phone.evaluate("window.drawnOnce = true")  # gone if the page were loaded again

    expect(finance).to_contain_text(re.compile(r"INV-\d+ \(Draft\)"), timeout=120_000)
    expect(phone.locator("#job-status")).to_have_text("Invoiced · draft")
    assert phone.evaluate("window.drawnOnce") is True, "the page was reloaded"
    assert sideways_scroll(phone) == 0
    shoot(phone, "phone-job-invoiced")


def test_the_queue_says_quietly_that_an_item_is_new_and_shows_it_when_asked(
    live_server, page, staff_login, settings
):
    settings.PAGE_POLL_SECONDS = 1
    ReviewItemFactory(title="Reconnect Xero", kind="connection", system="xero")
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/review/")
    rows = page.get_by_role("row").count()

    # Made in the background, as a worker raises one.
    ReviewItemFactory(title="Won deal to job: Walk-in quote")
    notice = page.locator(".news-pill")
    expect(notice).to_have_text("1 new item · Show", timeout=30_000)
    assert page.get_by_role("row").count() == rows, "rows moved before anyone asked"
    shoot(page, "review-queue-new-item")
    page.get_by_role("link", name="Show", exact=True).click()
    expect(page.get_by_role("link", name="Won deal to job: Walk-in quote")).to_be_visible()
    expect(notice).to_have_count(0)
    assert page.get_by_role("row").count() == rows + 1


def test_a_hidden_tab_asks_nothing_and_asks_at_once_when_shown_again(
    live_server, page, staff_login, settings
):
    settings.PAGE_POLL_SECONDS = 1
    asked, errors = [], []
    page.on("request", lambda r: "/review/news/" in r.url and asked.append(r.url))
    page.on("console", lambda m: m.type == "error" and "htmx" in m.text and errors.append(m.text))
    page.clock.install()  # the page's timers run only as far as the test moves its clock
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/review/")
    with page.expect_request(re.compile(r"/review/news/")):
        page.clock.run_for(1500)

    tab_seen(page, "hidden")
    before = len(asked)
    page.clock.run_for(10_000)  # ten rounds of polling, skipped
    page.evaluate("0")  # every request the page made by now has been reported
    assert len(asked) == before, "a hidden tab went on asking"
    with page.expect_request(re.compile(r"/review/news/")):
        tab_seen(page, "visible")
    assert errors == []  # e.g. htmx:syntax:error, from a trigger it cannot read


def test_the_job_list_and_home_say_what_is_new_and_show_it(
    live_server, page, staff_login, settings
):
    settings.PAGE_POLL_SECONDS = 1
    first = JobLineFactory(job__title="Kitchen rewire", job__status="in_progress").job
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/jobs/")
    new = JobFactory(title="Gutter repair")
    services.job_complete(job=first, by=staff_login, note="Done.")
    notice = page.locator(".news-pill")
    expect(notice).to_have_text("1 new job, 1 changed · Show", timeout=30_000)
    expect(page.get_by_role("row").filter(has_text=first.number)).to_contain_text("In progress")
    page.get_by_role("link", name="Show", exact=True).click()
    expect(page.get_by_role("row").filter(has_text=first.number)).to_contain_text("Done")
    expect(page.get_by_role("link", name=new.number)).to_be_visible()
    expect(notice).to_have_count(0)

    page.get_by_role("link", name="Home").click()
    ReviewItemFactory(title="Won deal to job: Walk-in quote")
    expect(notice).to_have_text("1 new review item · Show", timeout=30_000)
    shoot(page, "home-new-item")
    page.get_by_role("link", name="Show", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="Missing or invalid data")).to_be_visible()
    expect(notice).to_have_count(0)
