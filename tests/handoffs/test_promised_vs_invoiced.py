"""A won deal whose amount differs from its lines: one item before the invoice is drafted,
the invoice waiting on it; "use the lines" or "fix the deal" (through the sandboxes and a
real worker)."""

from django.test import Client

from handoffs.models import HandoffRun
from operations import services
from operations.models import Job
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, won_job, xero_invoices

DEAL = "safety switch upgrade"  # 12 x 95.00 + 15.6 x 110.00: its lines come to 2856.00


def promised(hub, amount: str) -> None:
    """Sales typed the deal's amount by hand, before the deal was won."""
    deal = next(d for d in hub.sandbox.store.list("deals") if DEAL in d["properties"]["dealname"])
    hub.sandbox.store.update("deals", deal["id"], {"amount": amount}, notify=False)


def finished(hub, django_user_model, *, inclusive: bool = False) -> Job:
    job = won_job(hub, DEAL)
    services.job_pricing_set(job=job, prices_include_gst=inclusive)
    services.job_transition(job=job, to="in_progress")
    services.job_complete(job=job, by=django_user_model.objects.create_user("tech"), note="Done.")
    return job


def the_item() -> ReviewItem:
    return wait_for(
        lambda: ReviewItem.objects.filter(kind="promise_differs", status="open").first(),
        what="the promise item",
    )


def invoice_run() -> HandoffRun | None:
    """The job's invoice run, once the job's completion has reached the hub."""
    return HandoffRun.objects.filter(handoff="job_done_to_invoice").first()


def invoice_run_in(state: str) -> bool:
    return getattr(invoice_run(), "state", None) == state


def test_a_deal_promising_another_amount_than_its_lines_is_one_item_before_any_invoice(
    hub, django_user_model, office_staff
):
    connect_xero(hub)
    promised(hub, "2860.00")
    job = finished(hub, django_user_model)
    item = the_item()
    assert (item.record_type, item.record_ref, item.system) == ("job", job.number, "operations")
    assert item.reason == (
        f"HubSpot deal {job.origin_ref} promised 2,860.00, but the job's lines come to "
        "2,856.00 (4.00 less), both excluding GST. No invoice was drafted yet."
    )
    assert "set its amount in HubSpot to 2,856.00" in item.action
    wait_for(lambda: invoice_run_in("needs_review"), what="the invoice to wait")
    assert invoice_run().review_item_id == item.pk
    assert xero_invoices(hub) == []
    assert Job.objects.get(pk=job.pk).status == "done"
    # The job page shows promised against the lines, and what the invoice waits on.
    client = Client()
    client.force_login(office_staff)
    page = client.get(f"/jobs/{job.number}/").content.decode()
    assert "Promised AUD 2860.00; the lines come to AUD 2856.00, both excluding GST." in page
    assert "The lines are 4.00 less than promised" in page
    assert f'href="/review/{item.pk}/"' in page
    page = client.get(f"/review/{item.pk}/").content.decode()
    assert "Use the lines" in page and "Fix the deal" in page and "Open the deal in HubSpot" in page
    # Retried before anyone chose or fixed anything, it asks again: still no invoice.
    review_item_resolve(item=item, by=office_staff, action="retry")
    again = the_item()
    assert again.pk != item.pk and "2,860.00" in again.reason
    wait_for(lambda: invoice_run_in("needs_review"), what="the invoice to wait again")
    assert xero_invoices(hub) == []


def test_use_the_lines_drafts_the_invoice_from_the_lines_with_gst_inside(
    hub, django_user_model, office_staff
):
    connect_xero(hub)
    promised(hub, "2860.00")
    job = finished(hub, django_user_model, inclusive=True)
    item = the_item()
    assert "both including GST" in item.reason
    preview = review_item_preview(item=item, action="use_lines")
    assert f"The draft invoice for job {job.number} is made from its lines: 2856.00 " in preview
    assert "including GST, not the deal's 2860.00" in preview
    assert xero_invoices(hub) == []  # a preview writes nothing
    review_item_resolve(item=item, by=office_staff, action="use_lines")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    assert (invoice["Total"], invoice["LineAmountTypes"]) == (2856.0, "Inclusive")
    item.refresh_from_db()
    assert (item.status, item.resolution) == ("resolved", "use_lines")
    wait_for(lambda: invoice_run_in("done"), what="the run to finish")
    assert Job.objects.get(pk=job.pk).amount == 2860  # the deal keeps what it promised


def test_fixing_the_deal_settles_the_item_and_the_invoice_follows(
    hub, django_user_model, office_staff
):
    connect_xero(hub)
    promised(hub, "2860.00")
    job = finished(hub, django_user_model)
    lines = list(job.lines.values_list("pk", "tax"))
    item = the_item()
    preview = review_item_preview(item=item, action="fix_deal")
    assert f"In HubSpot, open deal {job.origin_ref} and set its amount to 2856.00" in preview
    review_item_resolve(item=item, by=office_staff, action="fix_deal")
    item.refresh_from_db()
    assert (item.status, item.assignee) == ("open", office_staff)
    assert xero_invoices(hub) == []
    # Sales corrects the deal in HubSpot: the amount reaches the done job (nothing held,
    # as the work did not change), the item settles and the invoice goes on.
    hub.sandbox.store.update("deals", job.origin_ref, {"amount": "2856.00"})
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    assert invoice["Total"] == 3141.6  # 2856.00 plus 10% GST
    item.refresh_from_db()
    assert (item.status, item.resolution) == ("resolved", "settled")
    assert list(job.lines.values_list("pk", "tax")) == lines  # the lines were left alone
    assert not ReviewItem.objects.filter(status="open").exists()
