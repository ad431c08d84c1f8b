"""The main staff flows in a real browser: log in, filter, fix and retry, follow the trail."""

from playwright.sync_api import expect

from operations.models import Job
from review_queue.models import ReviewItem
from tests.browser.conftest import log_in, shoot, unlabelled_fields
from tests.helpers import wait_for
from tests.review_queue.factories import ReviewItemFactory


def test_staff_fix_a_won_deal_without_a_company_and_retry_it(hub, page, staff_login):
    store = hub.sandbox.store
    deal = next(d for d in store.list("deals") if "no company" in d["properties"]["dealname"])
    store.update("deals", deal["id"], {"dealstage": "closedwon"})
    wait_for(lambda: ReviewItem.objects.filter(status="open").exists(), what="the review item")

    log_in(page, hub.url)
    shoot(page, "home")
    page.get_by_role("link", name="Review queue").click()
    page.get_by_label("Kind").select_option(label="Missing or invalid data")
    row = page.get_by_role("link", name="Won deal to job: Walk-in quote - no company yet")
    expect(row).to_be_visible()
    shoot(page, "review-queue")
    assert unlabelled_fields(page) == []
    row.click()
    expect(page.get_by_text("has no company in HubSpot").first).to_be_visible()
    assert unlabelled_fields(page) == []
    shoot(page, "review-item")

    # The person fixes the cause in the CRM, then previews and confirms the retry.
    company = next(
        c for c in store.list("companies") if c["properties"]["name"] == "Tran Family Bakery"
    )
    store.associate("deals", deal["id"], "companies", company["id"])
    page.get_by_role("button", name="Retry…").click()
    expect(
        page.get_by_text("Create a job in the job register for Tran Family Bakery")
    ).to_be_visible()
    assert not Job.objects.filter(origin_ref=deal["id"]).exists()  # the preview wrote nothing
    shoot(page, "review-item-preview")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Sent 1 handoff back to the workers.")
    job = wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")

    page.get_by_role("link", name="Record trail").click()
    expect(page.get_by_text(f"Job {job.number} created")).to_be_visible()
    expect(page.get_by_text("olivia: Retry on")).to_be_visible()
    shoot(page, "record-trail")
    page.get_by_role("link", name="Jobs").click()
    page.get_by_role("link", name=job.number).click()
    expect(page.get_by_text("Tran Family Bakery").first).to_be_visible()
    shoot(page, "job")


def test_staff_dismiss_an_item_with_the_keyboard_and_its_handoff_ends(
    live_server, page, staff_login
):
    from tests.handoffs.test_dismissed_items import waiting_run

    item = ReviewItemFactory(title="Won deal to job: Old test deal")
    waiting_run(item)
    log_in(page, live_server.url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.goto(f"{live_server.url}/review/{item.pk}/")
    page.get_by_label("Why does this need no action?").focus()
    page.keyboard.type("Created by mistake in a training session.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Dismiss")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Dismissed. 1 handoff waiting on it ended.")
    item.refresh_from_db()
    assert (item.status, item.resolved_by) == ("dismissed", staff_login)
    why = "Dismissed by olivia: Created by mistake in a training session."
    expect(page.get_by_role("cell", name=why)).to_be_visible()
    page.get_by_role("link", name="Record trail").click()
    expect(page.get_by_text("Won deal to job: ended, its review item dismissed")).to_be_visible()
    expect(page.get_by_text(why)).to_be_visible()
    shoot(page, "dismissed-trail")


def test_anonymous_visitors_are_sent_to_the_login_page(live_server, page):
    page.goto(f"{live_server.url}/review/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert unlabelled_fields(page) == []
    shoot(page, "login")


def test_staff_resolve_a_disagreement_by_keeping_the_owners_value(hub, page, staff_login):
    from tests.handoffs.test_shared_fields_deal_and_job import (
        crm_sets_status,
        deal,
        rule,
        started_job,
    )

    def deal_status(hub, job):
        return deal(hub, job)["job_status"]

    job = started_job(hub)
    rule("flag")
    crm_sets_status(hub, job, "done")
    wait_for(lambda: ReviewItem.objects.filter(kind="disagreement").exists(), what="the item")

    log_in(page, hub.url)
    page.get_by_role("link", name="Review queue").click()
    page.get_by_label("Kind").select_option(label="Systems disagree")
    page.get_by_role("link", name="HubSpot disagrees about the job status").click()
    both = page.get_by_role("table", name="Every system's value")
    expect(both).to_contain_text("owns this field")
    expect(both).to_contain_text("In progress")
    expect(both).to_contain_text("Done")
    shoot(page, "disagreement")
    page.get_by_role("button", name="Keep the owner's value…").click()
    preview = page.get_by_text("Write the job register's job status 'In progress' to HubSpot")
    expect(preview).to_be_visible()
    assert deal_status(hub, job) == "done"
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("is being written to HubSpot")
    wait_for(lambda: deal_status(hub, job) == "in_progress", what="the owner's value back")
    page.get_by_role("link", name="Record trail").click()
    expect(page.get_by_text("olivia: Keep the owner's value on")).to_be_visible()
    shoot(page, "disagreement-trail")


def test_staff_fix_a_missing_item_code_and_the_invoice_goes_through(
    hub, page, staff_login, django_user_model
):
    from tests.handoffs.test_job_done_to_invoice import connect_xero, finished_job, xero_invoices

    connect_xero(hub)
    job = finished_job(hub, django_user_model, "common-area lighting")
    wait_for(
        lambda: ReviewItem.objects.filter(kind="missing_data", system="xero").exists(),
        what="the item",
    )
    log_in(page, hub.url)
    page.get_by_role("link", name="Review queue").click()
    page.get_by_role("link", name=f"Finished job to a draft invoice: {job.number}").click()
    expect(page.get_by_text("Item code 'LED-600' is not valid.").first).to_be_visible()
    page.get_by_label("Item code").select_option("FITOUT-EL")
    shoot(page, "missing-item-code")
    page.get_by_role("button", name="Use this item code…").click()
    expect(page.get_by_text("with item code LED-600 will use FITOUT-EL")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("now uses FITOUT-EL")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    assert len(xero_invoices(hub)) == 1
    page.get_by_role("link", name="Record trail").click()
    expect(page.get_by_text("olivia: Use this item code on")).to_be_visible()
