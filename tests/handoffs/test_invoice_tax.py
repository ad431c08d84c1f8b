"""Tax per line and figures Finance can trust (issue 13, points 1 and 2), through the
HubSpot and Xero sandboxes, the official SDKs over HTTP and a real worker."""

from django.test import Client

from handoffs.models import HandoffRun
from operations import services
from operations.models import Job
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.conftest import hub_quiet
from tests.handoffs.test_invoice_settings import admin_client, settings_post
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, finished_job, won_job, xero_invoices, xero_org

SWITCH = "safety switch upgrade"  # 12 x RCBO at 95.00 + 15.6 h of labour at 110.00
LIGHTS = "emergency lighting test"  # 44 x 30.00


def deal_lines(hub, name: str, changes: dict[str, dict], amount: str | None = None) -> None:
    """As sales in HubSpot: change the deal's line items (by SKU), and its amount."""
    deal = next(d for d in hub.sandbox.store.list("deals") if name in d["properties"]["dealname"])
    for line_id in hub.sandbox.store.associated_ids("deals", deal["id"], "line_items"):
        item = next(i for i in hub.sandbox.store.list("line_items") if i["id"] == line_id)
        if item["properties"]["hs_sku"] in changes:
            props = changes[item["properties"]["hs_sku"]]
            hub.sandbox.store.update("line_items", line_id, props, notify=False)
    if amount:
        hub.sandbox.store.update("deals", deal["id"], {"amount": amount}, notify=False)


def invoiced(job: Job) -> Job:
    return wait_for(
        lambda: Job.objects.filter(pk=job.pk, status="invoiced").first(), what="the invoice"
    )


def test_a_gst_free_line_in_hubspot_reaches_xero_with_the_admins_tax_type_to_the_cent(
    hub, django_user_model, office_staff
):
    connect_xero(hub)
    # 1000 cable ties at 0.0612: four decimal places, as the business prices them.
    deal_lines(
        hub,
        SWITCH,
        {
            "RCBO": {"tax_treatment": "gst_free"},
            "LABOUR-HR": {"quantity": "1000", "price": "0.0612", "tax_treatment": "gst"},
        },
        amount="1201.20",
    )
    job = finished_job(hub, django_user_model, SWITCH)
    assert [(line.tax, str(line.unit_price)) for line in job.lines.all()] == [
        ("gst_free", "95.0000"),
        ("gst", "0.0612"),
    ]
    job = invoiced(job)
    (invoice,) = xero_invoices(hub)
    assert [(x["TaxType"], x["UnitAmount"]) for x in invoice["LineItems"]] == [
        ("EXEMPTOUTPUT", 95.0),
        ("OUTPUT", 0.0612),  # sent with unitdp=4: Xero kept all four places
    ]
    assert invoice["LineAmountTypes"] == "Exclusive"
    # 1140.00 GST-free + 61.20 with 6.12 of GST.
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (1201.2, 6.12, 1207.32)
    figures = (job.xero_subtotal, job.xero_tax, job.xero_total)
    assert job.figures == job.xero_figures and [str(f) for f in figures] == [
        "1201.20",
        "6.12",
        "1207.32",
    ]
    assert not ReviewItem.objects.filter(status="open").exists()
    client = Client()
    client.force_login(office_staff)
    page = client.get(f"/jobs/{job.number}/").content.decode()
    assert '<th scope="col">The hub</th>' in page and f"Xero ({job.invoice_number})" in page
    both = '<td class="num">AUD 1207.32</td><td class="num">AUD 1207.32</td>'
    assert both in page and "differ" not in page
    # Xero's tax rates were read once, before the invoice was sent, and kept.
    assert xero_org(hub).requests["GET /TaxRates"] == 1


def test_an_archived_tax_type_is_one_item_naming_the_allowed_codes_until_the_setting_is_fixed(
    hub, django_user_model, office_staff
):
    connect_xero(hub)
    org = xero_org(hub)
    with hub.xero.store.lock:
        org.tax_rates["EXEMPTOUTPUT"]["Status"] = "ARCHIVED"  # the bookkeeper archived it
    deal_lines(hub, SWITCH, {"RCBO": {"tax_treatment": "gst_free"}})
    deal_lines(hub, LIGHTS, {"EM-TEST": {"tax_treatment": "gst_free"}})
    jobs = [finished_job(hub, django_user_model, name) for name in (SWITCH, LIGHTS)]
    runs = HandoffRun.objects.filter(handoff="job_done_to_invoice")
    wait_for(
        lambda: [r.state for r in runs.all()] == ["needs_review"] * 2,
        what="both invoices to wait",
    )
    (item,) = ReviewItem.objects.filter(status="open")
    assert {run.review_item_id for run in runs} == {item.pk}
    assert (
        item.title == "Invoices wait: Xero has archived tax type EXEMPTOUTPUT (GST Free Income, 0%)"
    )
    assert item.reason == (
        "No invoice was sent: Xero has archived tax type EXEMPTOUTPUT (GST Free Income, 0%), "
        "so the GST-free lines cannot go to Xero as 'Tax type for GST-free lines' says. Xero "
        "would take: BASEXCLUDED (BAS Excluded, 0%), INPUTTAXED (Input Taxed, 0%)."
    )
    assert item.details["allowed_codes"] == ["BASEXCLUDED", "INPUTTAXED"]
    assert org.requests["PUT /Invoices"] == 0 and xero_invoices(hub) == []
    reads = org.requests["GET /TaxRates"]  # a problem is read again from Xero before it counts
    # The admin chooses one Xero allows, and office staff press Retry: each invoice, once.
    settings_post(admin_client(django_user_model), tax_gst_free="BASEXCLUDED")
    review_item_resolve(item=item, by=office_staff, action="retry")
    for job in jobs:
        invoiced(job)
    wait_for(lambda: all(r.state == "done" for r in runs.all()), what="the runs to finish")
    assert org.requests["GET /TaxRates"] == reads  # what Xero said last was kept for both
    assert sorted(i["Reference"] for i in xero_invoices(hub)) == sorted(j.number for j in jobs)
    assert {x["TaxType"] for i in xero_invoices(hub) for x in i["LineItems"]} == {"BASEXCLUDED"} | (
        {"OUTPUT"}
    )


def test_a_tax_type_the_account_does_not_allow_is_caught_before_sending(hub, django_user_model):
    settings_post(admin_client(django_user_model), tax_gst="INPUT")  # GST on expenses
    connect_xero(hub)
    job = finished_job(hub, django_user_model, SWITCH)
    item = wait_for(
        lambda: ReviewItem.objects.filter(status="open").first(), what="the review item"
    )
    assert "Xero does not allow tax type INPUT (GST on Expenses, 10%) on account 200 (Sales)" in (
        item.reason
    )
    assert "Xero would take: OUTPUT (GST on Income, 10%)." in item.reason
    assert xero_org(hub).requests["PUT /Invoices"] == 0
    assert Job.objects.get(pk=job.pk).status == "done"


def test_staff_change_a_lines_tax_on_the_job_page_and_the_invoice_follows(
    hub, django_user_model, office_staff
):
    connect_xero(hub)
    job = won_job(hub, SWITCH)
    client = Client()
    client.force_login(office_staff)
    rcbo = job.lines.get(item_code="RCBO")
    page = client.get(f"/jobs/{job.number}/").content.decode()
    assert f'name="line-{rcbo.pk}"' in page and "Save how the lines are taxed" in page
    answer = client.post(f"/jobs/{job.number}/tax/", {f"line-{rcbo.pk}": "gst_free"}, follow=True)
    assert "Tax changed on 1 line(s)." in answer.content.decode()
    assert "(the deal said GST on income (10%))" in answer.content.decode()
    rcbo.refresh_from_db()
    assert (rcbo.tax, rcbo.promised_tax) == ("gst_free", "gst")
    services.job_transition(job=job, to="in_progress")
    services.job_complete(job=job, by=office_staff, note="Done.")
    job = invoiced(job)
    (invoice,) = xero_invoices(hub)
    assert [x["TaxType"] for x in invoice["LineItems"]] == ["EXEMPTOUTPUT", "OUTPUT"]
    assert invoice["TotalTax"] == 171.6  # GST on the labour only
    # The deal still promises GST on the line: that is the promise, not a disagreement.
    wait_for(lambda: hub_quiet(), what="the hub to settle")
    assert not ReviewItem.objects.filter(status="open").exists()
    # Once invoiced, the tax is Xero's to change.
    answer = client.post(f"/jobs/{job.number}/tax/", {f"line-{rcbo.pk}": "gst"}, follow=True)
    assert "is already on invoice" in answer.content.decode()
    rcbo.refresh_from_db()
    assert rcbo.tax == "gst_free"


def test_xeros_figures_differing_from_the_hubs_open_one_item_and_the_invoice_is_made_once(
    hub, django_user_model, office_staff
):
    connect_xero(hub)
    xero_org(hub).tax_rounding = "total"  # the switch: Xero would tax the total instead
    # Two lines of 10.05: 1.005 of GST each. Per line 2.02, on the total 2.01.
    deal_lines(
        hub,
        SWITCH,
        {
            "RCBO": {"quantity": "1", "price": "10.05"},
            "LABOUR-HR": {"quantity": "1", "price": "10.05"},
        },
        amount="20.10",
    )
    job = invoiced(finished_job(hub, django_user_model, SWITCH))
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="figures_differ", status="open").first(),
        what="the figures item",
    )
    assert (item.record_type, item.record_ref) == ("job", job.number)
    assert item.reason == (
        f"Xero made draft invoice {job.invoice_number} for job {job.number} with subtotal "
        "20.10, GST 2.01, total 22.11; the job's lines (prices excluding GST) come to "
        "subtotal 20.10, GST 2.02, total 22.12."
    )
    assert len(xero_invoices(hub)) == 1
    client = Client()
    client.force_login(office_staff)
    page = client.get(f"/jobs/{job.number}/").content.decode()
    assert "Xero's figures differ from the hub's" in page
    assert f'href="/review/{item.pk}/"' in page


def test_a_discount_on_a_hubspot_line_reaches_xero_as_its_discount_rate_to_the_cent(
    hub, django_user_model
):
    connect_xero(hub)
    # 12 RCBOs at 95.00 less 12.5 %: 997.50; 15.6 h at 110.00 less 33.33 %: 1144.06.
    deal_lines(
        hub,
        SWITCH,
        {
            "RCBO": {"hs_discount_percentage": "12.5"},
            "LABOUR-HR": {"hs_discount_percentage": "33.33"},
        },
        amount="2141.56",
    )
    job = invoiced(finished_job(hub, django_user_model, SWITCH))
    assert "12 x RCBO safety switch (RCBO) at 95.00 less 12.5%" in services.promised_lines(job)
    (invoice,) = xero_invoices(hub)
    assert [x["DiscountRate"] for x in invoice["LineItems"]] == [12.5, 33.33]
    assert [x["LineAmount"] for x in invoice["LineItems"]] == [997.5, 1144.06]
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (
        2141.56,
        214.16,
        2355.72,
    )
    assert job.figures == job.xero_figures
    assert not ReviewItem.objects.filter(status="open").exists()
