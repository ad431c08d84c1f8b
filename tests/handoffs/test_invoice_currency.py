"""A deal in another currency becomes an invoice in that currency when the Xero organisation
has it enabled, at Xero's own rate (the hub sends none); otherwise one item per currency
says what to do, and no invoice goes in another currency. Through the sandboxes and a worker.
"""

from connectors.sandbox.xero.store import currency_enable
from operations.models import Job
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, finished_job, xero_invoices, xero_org


def priced_in(hub, name: str, currency: str) -> None:
    deal = next(d for d in hub.sandbox.store.list("deals") if name in d["properties"]["dealname"])
    hub.sandbox.store.update("deals", deal["id"], {"deal_currency_code": currency}, notify=False)


def test_a_deal_in_an_enabled_currency_is_invoiced_in_it_at_xeros_rate(
    hub, django_user_model, office_staff, client
):
    currency_enable(xero_org(hub), "USD", "United States Dollar", 0.65)
    priced_in(hub, "safety switch upgrade", "USD")
    connect_xero(hub)
    job = finished_job(hub, django_user_model, "safety switch upgrade")
    assert job.currency == "USD"
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    # Xero's rate for the day: the hub sent no CurrencyRate (never a made-up one, never 1).
    assert (invoice["CurrencyCode"], invoice["CurrencyRate"], invoice["Total"]) == (
        "USD",
        0.65,
        3141.6,
    )
    client.force_login(office_staff)
    page = client.get(f"/jobs/{job.number}/").content.decode()
    assert "<dt>Invoiced</dt><dd>USD 3141.60</dd>" in page


def test_a_currency_xero_has_not_enabled_is_one_item_and_retry_sends_it_once(
    hub, django_user_model, office_staff
):
    priced_in(hub, "safety switch upgrade", "NZD")
    connect_xero(hub)
    job = finished_job(hub, django_user_model, "safety switch upgrade")
    root = f"xero:currency:NZD:{xero_org(hub).tenant_id}"
    item = wait_for(
        lambda: ReviewItem.objects.filter(status="open", root_key=root).first(),
        what="the item about NZD",
    )
    assert item.title == "Invoices in NZD wait: Xero does not have NZD enabled"
    assert job.number in item.reason and "Settings → Currencies" in item.action
    assert "Retry" in item.action
    # Nothing went to Xero, in NZD or in AUD.
    assert not xero_invoices(hub) and xero_org(hub).requests["PUT /Invoices"] == 0
    currency_enable(xero_org(hub), "NZD", "New Zealand Dollar", 1.08)
    review_item_resolve(item=item, by=office_staff, action="retry")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    assert (invoice["CurrencyCode"], invoice["CurrencyRate"]) == ("NZD", 1.08)
    assert xero_org(hub).requests["PUT /Invoices"] == 1
