"""The money flow in a real browser: an admin connects Xero, a finished job becomes a draft
invoice, the bookkeeper approves and pays it in Xero, and the CRM's deal shows it paid."""

import re

from playwright.sync_api import expect

from operations import services
from operations.models import Job
from tests.browser.conftest import PASSWORD, log_in, shoot, unlabelled_fields
from tests.helpers import wait_for
from tests.xero_helpers import won_job


def test_connect_xero_finish_a_job_approve_and_pay_it_and_the_deal_shows_paid(
    hub, page, django_user_model
):
    django_user_model.objects.create_user("owner", "owner@example.com", PASSWORD, is_staff=True)
    log_in(page, hub.url, "owner")
    page.get_by_role("link", name="Xero", exact=True).click()
    expect(page.get_by_role("cell", name="No Xero organisation is connected yet.")).to_be_visible()
    assert unlabelled_fields(page) == []
    shoot(page, "xero-settings-empty")
    page.get_by_role("button", name="Connect Xero").click()

    # Xero's consent page (the sandbox's), then back to the hub to choose the organisation.
    expect(page.get_by_role("heading")).to_contain_text("wants to access your Xero")
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_role("heading")).to_have_text("Choose the organisations to connect")
    page.get_by_role("button", name="Connect the chosen organisations").click()
    expect(page.get_by_role("status")).to_contain_text("Connected Demo Trades Pty Ltd.")
    expect(page.get_by_role("row").filter(has_text="Demo Trades Pty Ltd")).to_contain_text(
        "Connected"
    )
    shoot(page, "xero-settings-connected")

    job = won_job(hub, "safety switch upgrade")
    services.job_transition(job=job, to="in_progress")
    page.goto(f"{hub.url}/jobs/{job.number}/")
    page.get_by_label("Sign-off: what was done?").fill("Twelve RCBOs fitted and tested.")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("status")).to_contain_text(f"Job {job.number} marked done")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the draft invoice")

    # In Xero, as the bookkeeper: the draft is there; approve it and record the payment.
    page.goto(hub.xero.url)
    invoice = page.locator("tr[id^=invoice-]").filter(has_text=job.number)
    expect(invoice).to_contain_text("DRAFT")
    number = re.search(r"INV-\d+", invoice.inner_text())[0]
    page.get_by_role("button", name=f"Approve {number}").click()
    page.get_by_role("button", name=f"Record payment on {number}").click()
    expect(page.locator(f"#invoice-{number}")).to_contain_text("PAID")
    shoot(page, "xero-sandbox-console-paid")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "paid", what="the job to be paid")

    # In the CRM, the deal shows the invoice paid (written just after the job is marked paid).
    wait_for(
        lambda: hub.sandbox.store.get("deals", job.origin_ref)["properties"].get("payment_status")
        == "paid",
        what="the deal to be told",
    )
    page.goto(hub.sandbox.url)
    deal = page.locator(f"#deal-{job.origin_ref}")
    expect(deal).to_contain_text(f"Invoice {number}: paid")
    shoot(page, "hubspot-sandbox-deal-paid")
