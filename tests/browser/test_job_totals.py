"""An admin maps a job field to a Xero tracking category on the Xero page, in a real
browser; the finished job's draft invoice carries it, and the job page shows the hub's
subtotal, GST and total beside Xero's (docs/screenshots/job-totals.png for the README)."""

from decimal import Decimal

from playwright.sync_api import expect

from connectors.models import TrackingMapping
from operations import services
from operations.models import Job
from tests.browser.conftest import PASSWORD, log_in, shoot_for_docs, unlabelled_fields
from tests.handoffs.test_invoice_tax import deal_lines
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, won_job, xero_invoices


def test_an_admin_maps_the_region_and_the_job_page_shows_its_totals_beside_xeros(
    hub, page, django_user_model
):
    django_user_model.objects.create_user("owner", "owner@example.com", PASSWORD, is_staff=True)
    connect_xero(hub)
    log_in(page, hub.url, "owner")
    page.goto(f"{hub.url}/settings/xero/#tracking")
    expect(page.get_by_role("cell", name="No job field is mapped")).to_be_visible()
    page.get_by_label("Xero tracking category").fill("Region")
    page.get_by_label("Job field").select_option(label="The job site's state")
    assert unlabelled_fields(page) == []
    page.get_by_role("button", name="Save tracking category").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Invoice lines now carry the job site's state in Xero's tracking category 'Region'."
    )
    mapped = page.get_by_role("row").filter(
        has=page.get_by_role("button", name="Stop tracking Region")
    )
    expect(mapped).to_contain_text("The job site's state")
    expect(page.get_by_role("row").filter(has_text="Added")).to_contain_text("owner")
    assert TrackingMapping.objects.get().history.count() == 1

    # 1000 cable ties at 0.0612 (four decimals) and twelve RCBOs, 10 % off, GST-free.
    deal_lines(
        hub,
        "safety switch upgrade",
        {
            "RCBO": {"tax_treatment": "gst_free", "hs_discount_percentage": "10"},
            "LABOUR-HR": {"quantity": "1000", "price": "0.0612", "tax_treatment": "gst"},
        },
        amount="1087.20",
    )
    job = won_job(hub, "safety switch upgrade")
    assert [line.discount for line in job.lines.all()] == [Decimal("10"), Decimal("0")]
    services.job_site_update(
        job=job, site_address="4 Eton St, Sutherland NSW 2232", site_contact="", site_notes=""
    )
    services.job_transition(job=job, to="in_progress")
    page.goto(f"{hub.url}/jobs/{job.number}/")
    page.get_by_label("Sign-off: what was done?").fill("Twelve RCBOs fitted and tested.")
    page.get_by_role("button", name="Mark done").click()
    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, status="invoiced").first(), what="the invoice"
    )
    (invoice,) = xero_invoices(hub)
    assert {t["Option"] for line in invoice["LineItems"] for t in line["Tracking"]} == {"NSW"}
    page.reload()
    figures = page.locator("#figures")
    expect(figures).to_contain_text(f"Xero ({job.invoice_number})")
    # 12 x 95.00 less 10 % = 1026.00 GST-free; 1000 x 0.0612 = 61.20 with 6.12 of GST.
    shown = figures.inner_text()
    for row in ("Subtotal\tAUD 1087.20\tAUD 1087.20", "GST\tAUD 6.12\tAUD 6.12"):
        assert row in shown
    assert "Total\tAUD 1093.32\tAUD 1093.32" in shown
    expect(page.get_by_text("Xero's figures differ")).to_have_count(0)
    page.set_viewport_size({"width": 1200, "height": 1100})  # down to what finance invoiced
    shoot_for_docs(page, "job-totals", full_page=False)
