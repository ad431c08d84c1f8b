"""Invoice approved, paid, part-paid or voided in Xero → the job and the HubSpot deal follow,
through the engine (Xero owns the invoice's fields; the job and the deal carry them).

Through the sandboxes over HTTP and a real worker: INVOICE webhooks are the fast path,
polling (Payments and Invoices, If-Modified-Since) catches what has no webhook.
"""

from datetime import datetime
from decimal import Decimal

from connectors.base import VendorEvent
from connectors.models import XeroConnection
from connectors.sandbox.xero.money import MS_DATE
from handoffs.models import HandoffRun, InboundEvent
from handoffs.polling import finance_poll as xero_poll
from operations.models import Job
from ownership.models import Record
from tests.conftest import hub_settled
from tests.helpers import wait_for
from tests.xero_helpers import bookkeeper, invoiced_job, xero_invoices


def deal(hub, job: Job) -> dict:
    return hub.sandbox.store.get("deals", job.origin_ref)["properties"]


def test_approving_and_paying_in_xero_reach_the_job_and_the_deal(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    wait_for(lambda: deal(hub, job).get("payment_status") == "awaiting_payment", what="approval")
    bookkeeper(hub, invoice, "pay", amount="1000.00")
    wait_for(lambda: deal(hub, job).get("payment_status") == "part_paid", what="part payment")
    assert (deal(hub, job)["amount_paid"], deal(hub, job)["amount_due"]) == ("1000.00", "2141.60")
    assert Job.objects.get(pk=job.pk).status == "invoiced"
    bookkeeper(hub, invoice, "pay", amount="2141.60")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "paid", what="the job to be paid")
    shown = deal(hub, job)
    assert (shown["payment_status"], shown["amount_paid"], shown["amount_due"]) == (
        "paid",
        "3141.60",
        "0.00",
    )
    assert shown["last_payment_date"] and shown["invoice_number"] == invoice["InvoiceNumber"]
    wait_for(lambda: deal(hub, job).get("job_status") == "paid", what="the job status on the deal")
    # The invoice is a canonical record, linked where each system shows it.
    record = Record.objects.get(type="invoice")
    assert dict(record.links.values_list("system", "external_id")) == {
        "xero": invoice["InvoiceID"],
        "operations": job.number,
        "hubspot": job.origin_ref,
    }


def test_a_part_payment_shows_on_the_job_page_with_the_balance_due(
    hub, django_user_model, office_staff, client
):
    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    bookkeeper(hub, invoice, "pay", amount="1000.00")
    wait_for(lambda: Job.objects.get(pk=job.pk).amount_due == Decimal("2141.60"), what="the due")
    client.force_login(office_staff)
    page = client.get(f"/jobs/{job.number}/").content.decode()
    assert "Invoiced · part paid" in page
    assert "<dt>Paid</dt><dd>AUD 1000.00</dd>" in page
    assert "<dt>Balance due</dt><dd>AUD 2141.60</dd>" in page


def test_an_invoice_credited_in_full_is_credited_not_paid(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    bookkeeper(hub, invoice, "credit", amount="3141.60")
    (credited,) = xero_invoices(hub)
    assert (credited["Status"], credited["AmountCredited"], credited["AmountDue"]) == (
        "PAID",
        3141.6,
        0.0,
    )
    wait_for(lambda: deal(hub, job).get("payment_status") == "credited", what="the deal")
    assert (deal(hub, job)["amount_paid"], deal(hub, job)["amount_due"]) == ("0.00", "0.00")
    # The same run writes the register just after HubSpot.
    job = wait_for(
        lambda: Job.objects.filter(pk=job.pk, invoice_status="credited").first(),
        what="the job",
    )
    assert (job.status, job.amount_due) == ("invoiced", 0)


def test_a_part_credit_lowers_the_balance_due_without_counting_as_paid(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    bookkeeper(hub, invoice, "credit", amount="141.60")
    wait_for(lambda: deal(hub, job).get("amount_due") == "3000.00", what="the credit")
    assert deal(hub, job)["payment_status"] == "awaiting_payment"
    bookkeeper(hub, invoice, "pay", amount="3000.00")
    wait_for(lambda: deal(hub, job).get("payment_status") == "paid", what="the payment")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "paid", what="the job to be paid")


def test_a_deleted_draft_sends_the_job_back_to_done_and_it_is_drafted_anew_once(
    hub, django_user_model
):
    """(A voided invoice, and what the deal shows meanwhile: test_approved_invoice.py.)"""
    job, invoice = invoiced_job(hub, django_user_model)
    wait_for(lambda: deal(hub, job).get("payment_status") == "draft", what="the draft")
    bookkeeper(hub, invoice, "delete")
    job = wait_for(
        lambda: Job.objects.exclude(invoice_number=invoice["InvoiceNumber"])
        .filter(pk=job.pk, status="invoiced")
        .first(),
        what="the job's new draft",
    )
    # The job went back to done on the way: its history says so.
    saved = [h.status for h in job.history.order_by("history_date", "history_id")]
    moves = [status for n, status in enumerate(saved) if n == 0 or saved[n - 1] != status]
    assert moves[2:] == ["done", "invoiced", "done", "invoiced"]
    deleted, new = sorted(xero_invoices(hub), key=lambda i: i["InvoiceNumber"])
    assert (deleted["Status"], deleted["AmountDue"]) == ("DELETED", 0.0)
    assert (new["Status"], new["Reference"], new["InvoiceNumber"]) == (
        "DRAFT",
        job.number,
        job.invoice_number,
    )
    wait_for(lambda: deal(hub, job).get("invoice_number") == new["InvoiceNumber"], what="deal")


def test_polling_finds_a_payment_that_sent_no_webhook_and_moves_the_watermark(
    hub, django_user_model
):
    job, invoice = invoiced_job(hub, django_user_model)
    hub.xero.sender.wait_idle()
    hub.xero.sender.webhook_url = ""  # as for payments in real Xero: no webhook at all
    try:
        bookkeeper(hub, invoice, "approve")
        bookkeeper(hub, invoice, "pay", amount=str(invoice["Total"]))
        counts = xero_poll()
    finally:
        hub.xero.sender.webhook_url = f"{hub.url}/webhooks/xero/"
    assert counts["invoices"] == 1 and counts["payments"] == 1
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "paid", what="the job to be paid")
    # The watermark is Xero's UpdatedDateUTC of the newest record, not the hub's clock.
    stored = next(iter(hub.xero.store.organisations.values())).invoices[invoice["InvoiceID"]]
    xero_ms = int(MS_DATE.match(stored["UpdatedDateUTC"])[1])
    marks = XeroConnection.objects.get().watermarks
    assert datetime.fromisoformat(marks["invoices"]).timestamp() * 1000 == xero_ms
    # The next poll re-reads the overlap but stores nothing twice and starts no new run.
    # (Once the hub's own writes and their webhooks have settled: those are runs too.)
    wait_for(lambda: hub_settled(hub), what="the hub to settle")
    runs = HandoffRun.objects.filter(handoff="shared_fields", record_system="xero")
    before = runs.count()
    assert xero_poll() == {"invoices": 0, "payments": 0, "quotes": 0}
    assert runs.count() == before
    assert InboundEvent.objects.filter(delivery_key__startswith="poll:invoice:").count() == 1


def test_polling_that_xero_refuses_opens_the_reconnect_item_instead_of_only_logging(hub):
    from datetime import timedelta

    from django.utils import timezone

    from review_queue.models import ReviewItem

    XeroConnection.objects.create(
        tenant_id=next(iter(hub.xero.store.organisations)),
        tenant_name="Demo Trades Pty Ltd",
        access_token="expired",
        refresh_token="already-used",
        scopes="offline_access",
        expires_at=timezone.now() - timedelta(minutes=5),
    )
    assert xero_poll() == {"invoices_failed": 1}  # the other resources wait for reconnecting
    item = ReviewItem.objects.get(kind="connection", system="xero", status="open")
    assert item.title == "Reconnect Xero: Demo Trades Pty Ltd"
    assert "no longer accepts" in item.reason
    assert XeroConnection.objects.get().status == "reconnect_needed"
    assert xero_poll() == {}  # a connection needing a person is not hammered every minute


def test_a_payment_the_crm_refused_at_first_still_reaches_the_deal(hub, django_user_model):
    """The issue's lost payment: the job showed paid, HubSpot answered 429 to the deal's
    write, and the retry skipped because the job "already showed" it."""
    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    wait_for(lambda: deal(hub, job).get("payment_status") == "awaiting_payment", what="approval")
    hub.sandbox.store.set_fault(
        status=429, retry_after=1, count=2, path_prefix="/crm/v3/objects/deals/batch/update"
    )
    bookkeeper(hub, invoice, "pay", amount=str(invoice["Total"]))
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "paid", what="the job to be paid")
    wait_for(lambda: deal(hub, job).get("payment_status") == "paid", what="the deal to learn it")
    assert deal(hub, job)["amount_due"] == "0.00"


def test_a_late_event_never_moves_a_payment_backwards(hub, django_user_model):
    """Events only say which invoice to look at: an old one read late finds it paid."""
    from handoffs.inbox import polled_events_store

    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    bookkeeper(hub, invoice, "pay", amount="1000.00")
    wait_for(lambda: deal(hub, job).get("payment_status") == "part_paid", what="part payment")
    bookkeeper(hub, invoice, "pay", amount=str(invoice["Total"] - 1000))
    wait_for(lambda: deal(hub, job).get("payment_status") == "paid", what="paid")
    # The part payment's event, told again long after (a late poll, a retried webhook).
    late = VendorEvent(
        "poll:late-part-payment",
        "INVOICE.UPDATE",
        invoice["InvoiceID"],
        {
            "eventCategory": "INVOICE",
            "eventType": "UPDATE",
            "resourceId": invoice["InvoiceID"],
            "tenantId": next(iter(hub.xero.store.organisations)),
            "eventDateUtc": "2020-01-01T00:00:00.000",
        },
    )
    polled_events_store(source="xero", events=[late])
    wait_for(
        lambda: InboundEvent.objects.filter(
            delivery_key="poll:late-part-payment", state="processed"
        ).exists(),
        what="the late event to be handled",
    )
    wait_for(
        lambda: not HandoffRun.objects.filter(state__in=["pending", "running"]).exists(),
        what="its run",
    )
    assert deal(hub, job)["payment_status"] == "paid"
    assert Job.objects.get(pk=job.pk).status == "paid"
