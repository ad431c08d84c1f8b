"""A job whose lines change after its invoice was approved in Xero: one item, then a credit
note and a new draft (once, however often asked), or the invoice kept. An invoice voided in
Xero sends the job back to done and it is invoiced anew, once.

Through the sandboxes over HTTP and a real worker. The lines change the way they do in the
business: the deal's quote changes in HubSpot after the work started, and a person applies
it to the job.
"""

import urllib.request
from decimal import Decimal

from handoffs.models import HandoffRun
from handoffs.runs import handoff_run_replay
from operations.models import Job
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.helpers import wait_for
from tests.xero_helpers import bookkeeper, invoiced_job, xero_invoices, xero_org


def deal(hub, job: Job) -> dict:
    return hub.sandbox.store.get("deals", job.origin_ref)["properties"]


def approved_job(hub, django_user_model) -> tuple[Job, dict]:
    """A job invoiced (3,141.60 with GST) and its invoice approved in Xero."""
    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    wait_for(
        lambda: Job.objects.get(pk=job.pk).invoice_status == "awaiting_payment",
        what="the approval to reach the job",
    )
    return job, invoice


def fewer_hours(hub, job: Job, office_staff, hours: str = "10") -> ReviewItem:
    """The deal's quote changes to `hours` of labour; a person applies it to the job; return
    the item about the approved invoice."""
    quote_applied(hub, job, office_staff, hours)
    return wait_for(
        lambda: ReviewItem.objects.filter(kind="approved_invoice_changed", status="open").first(),
        what="the item about the approved invoice",
    )


def quote_applied(hub, job: Job, office_staff, hours: str) -> None:
    """The deal's quote changes to `hours` of labour; a person applies it to the job."""
    store = hub.sandbox.store
    ids = store.associated_ids("deals", job.origin_ref, "line_items")
    labour = next(
        i for i in ids if store.get("line_items", i)["properties"].get("hs_sku") == "LABOUR-HR"
    )
    store.update("line_items", labour, {"quantity": hours}, notify=False)
    amount = Decimal("1140.00") + Decimal(hours) * 110
    store.update("deals", job.origin_ref, {"amount": f"{amount:.2f}"}, change_source="CRM_UI")
    changed = wait_for(
        lambda: ReviewItem.objects.filter(kind="quote_changed", status="open").first(),
        what="the quote change to be asked about",
    )
    review_item_resolve(item=changed, by=office_staff, action="apply_to_job")


def test_lines_changed_after_approval_are_one_item_and_the_invoice_is_left_alone(
    hub, django_user_model, office_staff
):
    job, invoice = approved_job(hub, django_user_model)
    item = fewer_hours(hub, job, office_staff)
    assert item.record_ref == job.number and item.system == "xero"
    assert f"invoice {invoice['InvoiceNumber']} was approved" in item.reason
    assert "AUD 2,464.00" in item.reason and "AUD 3,141.60" in item.reason
    assert "Credit the invoice and raise a new draft" in item.action
    # Xero was asked nothing that changes the invoice: it is as approved.
    (kept,) = xero_invoices(hub)
    assert (kept["Status"], kept["Total"], kept["AmountDue"]) == ("AUTHORISED", 3141.6, 3141.6)
    assert xero_org(hub).requests["POST /Invoices/" + invoice["InvoiceID"]] == 0
    # A second change to the lines is the same item, saying what is true now.
    fewer_hours(hub, job, office_staff, hours="12")
    wait_for(
        lambda: "AUD 2,706.00" in ReviewItem.objects.get(pk=item.pk).reason,
        what="the item to say the new figures",
    )
    assert ReviewItem.objects.filter(kind="approved_invoice_changed").count() == 1


def test_credit_and_redraft_makes_one_credit_note_and_one_new_draft(
    hub, django_user_model, office_staff
):
    job, invoice = approved_job(hub, django_user_model)
    item = fewer_hours(hub, job, office_staff)
    preview = review_item_preview(item=item, action="credit_and_redraft")
    assert "credit note (ACCRECCREDIT) for AUD 3141.60" in preview
    assert "DRAFT invoice" in preview and "AUD 2464.00" in preview
    assert not xero_org(hub).credit_notes  # a preview sends nothing
    review_item_resolve(item=item, by=office_staff, action="credit_and_redraft")
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="credit_and_redraft", state="done").first(),
        what="the credit and the new draft",
    )
    org = xero_org(hub)
    (note,) = org.credit_notes.values()
    assert (note["Type"], note["Status"], note["Total"], note["RemainingCredit"]) == (
        "ACCRECCREDIT",
        "PAID",
        3141.6,
        0.0,
    )
    assert note["Allocations"][0]["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    old = org.invoices[invoice["InvoiceID"]]
    assert (old["Status"], old["AmountCredited"], old["AmountDue"]) == ("PAID", 3141.6, 0.0)
    (new,) = [i for i in xero_invoices(hub) if i["InvoiceID"] != invoice["InvoiceID"]]
    assert (new["Status"], new["Reference"], new["Total"]) == ("DRAFT", job.number, 2464.0)
    assert note["CreditNoteNumber"] in run.summary and new["InvoiceNumber"] in run.summary
    # The job and the deal follow the new draft; the credited invoice no longer reaches them.
    wait_for(
        lambda: Job.objects.get(pk=job.pk).invoice_number == new["InvoiceNumber"],
        what="the job to follow the new draft",
    )
    wait_for(lambda: deal(hub, job).get("invoice_number") == new["InvoiceNumber"], what="deal")
    assert Job.objects.get(pk=job.pk).invoice_status == "draft"
    # Asked again (a double click, a replay after a killed worker): nothing more is made.
    handoff_run_replay(run=run)
    wait_for(
        lambda: HandoffRun.objects.get(pk=run.pk).state == "done" and run.attempts == 0,
        what="the replay",
    )
    assert len(org.credit_notes) == 1 and len(xero_invoices(hub)) == 2
    assert org.requests["PUT /CreditNotes"] == 1
    assert ReviewItem.objects.get(pk=item.pk).status == "resolved"


def test_a_paid_job_credited_and_redrafted_is_invoiced_again_not_paid(
    hub, django_user_model, office_staff
):
    job, invoice = approved_job(hub, django_user_model)
    bookkeeper(hub, invoice, "pay", amount="3141.60")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "paid", what="the payment")
    item = fewer_hours(hub, job, office_staff)
    review_item_resolve(item=item, by=office_staff, action="credit_and_redraft")
    wait_for(
        lambda: Job.objects.get(pk=job.pk).invoice_status == "draft",
        what="the job to follow the new draft",
    )
    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.amount_due) == ("invoiced", Decimal("2464.00"))


def test_keep_the_invoice_stops_the_difference_being_flagged(hub, django_user_model, office_staff):
    job, invoice = approved_job(hub, django_user_model)
    item = fewer_hours(hub, job, office_staff)
    preview = review_item_preview(item=item, action="keep_invoice")
    assert "Nothing is sent" in preview
    review_item_resolve(item=item, by=office_staff, action="keep_invoice")
    check = HandoffRun.objects.filter(handoff="approved_invoice").latest("pk")
    handoff_run_replay(run=check)
    wait_for(
        lambda: HandoffRun.objects.get(pk=check.pk).state == "skipped",
        what="the check to respect the decision",
    )
    assert "keep invoice" in HandoffRun.objects.get(pk=check.pk).summary
    assert not ReviewItem.objects.filter(kind="approved_invoice_changed", status="open").exists()
    assert not xero_org(hub).credit_notes and len(xero_invoices(hub)) == 1


def test_a_voided_invoice_shows_nothing_due_and_the_job_is_invoiced_anew_once(
    hub, django_user_model, office_staff
):
    job, invoice = approved_job(hub, django_user_model)
    # The bookkeeper archived the sales account: the new invoice waits on that, and the job
    # stays done meanwhile, its invoice voided.
    org = xero_org(hub)
    org.accounts["200"]["Status"] = "ARCHIVED"
    bookkeeper(hub, invoice, "void")
    setup = wait_for(
        lambda: ReviewItem.objects.filter(kind="missing_data", status="open").first(),
        what="the new invoice to wait on the archived account",
    )
    job.refresh_from_db()
    assert (job.status, job.invoice_status, job.amount_due) == ("done", "voided", 0)
    wait_for(lambda: deal(hub, job).get("payment_status") == "voided", what="the deal")
    assert (deal(hub, job)["amount_paid"], deal(hub, job)["amount_due"]) == ("0.00", "0.00")
    with urllib.request.urlopen(hub.sandbox.url + "/", timeout=10) as page:  # its console
        shown = page.read().decode()
    assert "<strong>voided</strong> (nothing due)" in shown and "due 3141.60" not in shown
    org.accounts["200"]["Status"] = "ACTIVE"
    review_item_resolve(item=setup, by=office_staff, action="retry")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the new draft")
    (new,) = [i for i in xero_invoices(hub) if i["InvoiceID"] != invoice["InvoiceID"]]
    assert (new["Status"], new["Reference"]) == ("DRAFT", job.number)
    assert org.invoices[invoice["InvoiceID"]]["Status"] == "VOIDED"
    assert Job.objects.get(pk=job.pk).invoice_number == new["InvoiceNumber"]
    wait_for(lambda: deal(hub, job).get("payment_status") == "draft", what="the deal")
    # The re-invoicing run again, once it has finished (the deal shows the new draft while
    # the run that made it is still ending): still one new invoice.
    again = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="job_done_to_invoice", key__contains=":again:", state="done"
        ).first(),
        what="the re-invoicing run to finish",
    )
    handoff_run_replay(run=again)
    wait_for(lambda: HandoffRun.objects.get(pk=again.pk).state == "skipped", what="the replay")
    assert len(xero_invoices(hub)) == 2


def test_a_new_draft_approved_and_changed_again_is_credited_and_drafted_anew_too(
    hub, django_user_model, office_staff
):
    job, first = approved_job(hub, django_user_model)
    review_item_resolve(
        item=fewer_hours(hub, job, office_staff), by=office_staff, action="credit_and_redraft"
    )
    second = wait_for(
        lambda: next((i for i in xero_invoices(hub) if i["InvoiceID"] != first["InvoiceID"]), 0),
        what="the first new draft",
    )
    wait_for(
        lambda: Job.objects.get(pk=job.pk).invoice_number == second["InvoiceNumber"],
        what="the job to follow it",
    )
    bookkeeper(hub, second, "approve")
    wait_for(
        lambda: Job.objects.get(pk=job.pk).invoice_status == "awaiting_payment", what="approval"
    )
    item = fewer_hours(hub, job, office_staff, hours="12")
    assert f"invoice {second['InvoiceNumber']} was approved" in item.reason
    review_item_resolve(item=item, by=office_staff, action="credit_and_redraft")
    wait_for(
        lambda: HandoffRun.objects.filter(handoff="credit_and_redraft", state="done").count() == 2,
        what="the second credit",
    )
    invoices = {i["InvoiceNumber"]: i for i in xero_invoices(hub)}
    assert len(invoices) == 3 and len(xero_org(hub).credit_notes) == 2
    third = next(
        i for n, i in invoices.items() if n not in (first["InvoiceNumber"], second["InvoiceNumber"])
    )
    assert (third["Status"], third["Total"]) == ("DRAFT", 2706.0)
    wait_for(
        lambda: Job.objects.get(pk=job.pk).invoice_number == third["InvoiceNumber"],
        what="the job to follow the third",
    )


def test_a_draft_whose_job_changed_is_the_figures_item_to_correct_it_in_xero(
    hub, django_user_model, office_staff
):
    job, invoice = invoiced_job(hub, django_user_model)
    quote_applied(hub, job, office_staff, "10")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="figures_differ", status="open").first(),
        what="the figures item",
    )
    assert invoice["InvoiceNumber"] in item.reason and "2,464.00" in item.reason
    assert "Correct the draft there" in item.action
    assert not ReviewItem.objects.filter(kind="approved_invoice_changed").exists()
    assert not xero_org(hub).credit_notes and len(xero_invoices(hub)) == 1
