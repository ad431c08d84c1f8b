"""What admins set on the Xero page shapes the invoice: account, tax types, GST-inclusive
prices per job, due dates from the contact's terms; a wrong code is a review item with the fix."""

from django.test import Client

from connectors.models import InvoiceSettings
from operations import services
from operations.models import Job
from review_queue.models import ReviewItem
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, day, finished_job, won_job, xero_invoices, xero_org


def admin_client(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("boss", is_staff=True))
    return client


def settings_post(client: Client, **changes) -> None:
    form = {
        "sales_account": "200",
        "tax_gst": "OUTPUT",
        "tax_gst_free": "EXEMPTOUTPUT",
        "tax_none": "BASEXCLUDED",
        "default_due_days": "14",
    } | changes
    assert client.post("/settings/xero/", form).status_code == 302


def test_an_admin_sets_the_account_and_a_job_with_gst_inclusive_prices(hub, django_user_model):
    client = admin_client(django_user_model)
    settings_post(client, sales_account="260", default_due_days="7")
    page = client.get("/settings/xero/").content.decode()
    assert "Changes to these settings" in page and "boss" in page
    assert InvoiceSettings.current().history.count() == 2  # made from defaults, then changed
    connect_xero(hub)
    job = won_job(hub, "safety switch upgrade")
    services.job_pricing_set(job=job, prices_include_gst=True)
    services.job_transition(job=job, to="in_progress")
    services.job_complete(job=job, by=django_user_model.objects.get(), note="Done.")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    assert {line["AccountCode"] for line in invoice["LineItems"]} == {"260"}
    assert invoice["LineAmountTypes"] == "Inclusive"
    assert invoice["Total"] == 2856.0  # 12 x 95.00 + 15.6 x 110.00, GST inside
    assert (day(invoice["DueDate"]) - day(invoice["Date"])).days == 7  # no terms: the default


def test_an_account_xero_does_not_have_is_a_review_item_pointing_at_the_xero_page(
    hub, django_user_model
):
    settings_post(admin_client(django_user_model), sales_account="999")
    connect_xero(hub)
    job = finished_job(hub, django_user_model, "safety switch upgrade")
    item = wait_for(
        lambda: ReviewItem.objects.filter(system="xero", kind="missing_data").first(),
        what="the review item",
    )
    # Caught before sending, naming the accounts Xero would take.
    assert item.reason == (
        "No invoice was sent: Xero has no account 999, so the lines cannot go to Xero as "
        "'Sales account' says. Xero would take: 200 (Sales), 260 (Other Revenue)."
    )
    assert "How jobs are written on invoices" in item.action
    assert xero_org(hub).requests["PUT /Invoices"] == 0
    assert Job.objects.get(pk=job.pk).status == "done"


def test_the_settings_page_refuses_a_code_that_is_not_a_code(django_user_model, db):
    client = admin_client(django_user_model)
    answer = client.post(
        "/settings/xero/",
        {
            "sales_account": "200 sales; drop",
            "tax_gst": "",
            "tax_gst_free": "X",
            "tax_none": "Y",
            "default_due_days": "-1",
        },
    )
    assert answer.status_code == 200
    assert "Use Xero&#x27;s code" in answer.content.decode()
    assert InvoiceSettings.current().sales_account == "200"
