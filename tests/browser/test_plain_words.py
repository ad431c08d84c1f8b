"""What staff read in the browser is plain words: the item page, the run list and the
trail name handoffs, systems, records and what people did as people say them, never the
hub's internal codes (deal_won_to_job, hubspot, retry, a bare deal id)."""

from playwright.sync_api import expect

from review_queue.models import ReviewItem
from tests.browser.conftest import log_in, shoot
from tests.helpers import wait_for

CODES = ("deal_won_to_job", "shared_fields", "hubspot", "needs_review", "#")


def test_the_item_page_and_the_run_list_read_in_plain_words(hub, page, staff_login):
    store = hub.sandbox.store
    deal = next(d for d in store.list("deals") if "no company" in d["properties"]["dealname"])
    store.update("deals", deal["id"], {"dealstage": "closedwon"})
    item = wait_for(
        lambda: ReviewItem.objects.filter(status="open", kind="missing_data").first(),
        what="the review item",
    )
    log_in(page, hub.url)
    page.goto(f"{hub.url}/review/{item.pk}/")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("HubSpot")
    expect(facts).to_contain_text(f"Walk-in quote - no company yet (HubSpot deal {deal['id']})")
    waiting = page.get_by_role("table").filter(has_text="Last result")
    expect(waiting.get_by_role("link", name="Won deal to job")).to_be_visible()
    page.get_by_label("Who looks after this?").select_option(label="olivia")
    page.get_by_role("button", name="Assign", exact=True).click()
    log = page.get_by_role("table").filter(has_text="Assigned to olivia.")
    expect(log.get_by_role("cell", name="Assign", exact=True)).to_be_visible()
    body = page.locator("main").inner_text()
    assert not [code for code in CODES if code in body], body
    shoot(page, "plain-words-item")

    page.get_by_role("link", name="Handoffs").click()
    expect(page.get_by_role("link", name="Won deal to job").first).to_be_visible()
    page.get_by_label("Handoff").select_option(label="Won deal to job")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="Waiting on a review item")).to_be_visible()
    body = page.locator("main").inner_text()
    assert not [code for code in CODES if code in body], body
    shoot(page, "plain-words-runs")

    page.get_by_role("link", name="Won deal to job").first.click()
    expect(page.get_by_role("heading", name="Won deal to job")).to_be_visible()
    expect(page.get_by_text("Started by")).to_be_visible()
    page.get_by_role("link", name="Everything about this deal").click()
    expect(
        page.get_by_role("heading", name=f"Record trail: HubSpot deal {deal['id']}")
    ).to_be_visible()
    expect(page.get_by_text("Won deal to job: attempt 1, failed, sent to review")).to_be_visible()
    body = page.locator("main").inner_text()
    assert not [code for code in CODES if code in body], body
    shoot(page, "plain-words-trail")
