"""A finished job becomes exactly one DRAFT invoice in Xero (through the sandbox and a worker)."""

from datetime import timedelta

from django.utils import timezone

from connectors.models import XeroConnection
from handoffs.models import HandoffRun
from operations import services
from operations.models import Job
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.helpers import wait_for


def connect_xero(hub) -> XeroConnection:
    tokens = hub.xero.store.issue_tokens()
    return XeroConnection.objects.create(
        tenant_id=next(iter(hub.xero.store.organisations)),
        tenant_name="Demo Trades Pty Ltd",
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=timezone.now() + timedelta(minutes=30),
        scopes="offline_access",
    )


def finished_job(hub, django_user_model, name: str) -> Job:
    deal = next(d for d in hub.sandbox.store.list("deals") if name in d["properties"]["dealname"])
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"})
    job = wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")
    services.job_transition(job=job, to="in_progress")
    tech, _ = django_user_model.objects.get_or_create(username="tech")
    services.job_complete(job=job, by=tech, note="Done.")
    return job


def xero_invoices(hub) -> list[dict]:
    return [i for org in hub.xero.store.organisations.values() for i in org.invoices.values()]


def test_a_finished_job_becomes_one_draft_invoice_and_the_job_is_invoiced(hub, django_user_model):
    connect_xero(hub)
    job = finished_job(hub, django_user_model, "safety switch upgrade")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    assert (invoice["Status"], invoice["Type"], invoice["Reference"]) == (
        "DRAFT",
        "ACCREC",
        job.number,
    )
    assert [line["ItemCode"] for line in invoice["LineItems"]] == ["RCBO", "LABOUR-HR"]
    assert invoice["Total"] == 3141.6  # 12 x 95.00 + 15.6 x 110.00, plus 10% GST
    job.refresh_from_db()
    assert job.invoice_number == invoice["InvoiceNumber"]
    contact = next(iter(hub.xero.store.organisations.values())).contacts[
        invoice["Contact"]["ContactID"]
    ]
    assert contact["Name"] == job.customer.name and contact["ContactNumber"].startswith("HUB-")
    # The completion handled again (duplicate event, killed worker) makes no second invoice.
    run = HandoffRun.objects.get(handoff="job_done_to_invoice")
    Job.objects.filter(pk=job.pk).update(invoice_number="")
    HandoffRun.objects.filter(pk=run.pk).update(state="retrying")
    from handoffs.runs import handoff_run_execute

    handoff_run_execute(run_id=run.pk)
    assert len(xero_invoices(hub)) == 1


def test_an_unknown_item_code_becomes_a_review_item_naming_it(hub, django_user_model):
    connect_xero(hub)
    job = finished_job(hub, django_user_model, "common-area lighting")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="missing_data", system="xero").first(),
        what="the item",
    )
    assert "Item code 'LED-600' is not valid." in item.reason
    assert Job.objects.get(pk=job.pk).status == "done"
    assert xero_invoices(hub) == []


def test_staff_fix_the_item_code_from_the_review_item_and_the_invoice_follows(
    hub, office_staff, django_user_model
):
    from review_queue.services import review_item_preview, review_item_resolve

    connect_xero(hub)
    job = finished_job(hub, django_user_model, "common-area lighting")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="missing_data", system="xero").first(),
        what="the item",
    )
    assert item.details["bad_item_codes"] == ["LED-600"]
    preview = review_item_preview(item=item, action="use_item_code", values={"code": "FITOUT-EL"})
    assert "1 line(s) with item code LED-600 will use FITOUT-EL" in preview
    review_item_resolve(
        item=item, by=office_staff, action="use_item_code", values={"code": "FITOUT-EL"}
    )
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    assert [line["ItemCode"] for line in xero_invoices(hub)[0]["LineItems"]] == [
        "FITOUT-EL",
        "LABOUR-HR",
    ]


def test_without_a_xero_connection_finished_jobs_wait_on_one_item(hub, django_user_model):
    first = finished_job(hub, django_user_model, "safety switch upgrade")
    second = finished_job(hub, django_user_model, "common-area lighting")
    waiting = HandoffRun.objects.filter(handoff="job_done_to_invoice", state="needs_review")
    wait_for(lambda: waiting.count() == 2, what="both invoices to wait")
    item = ReviewItem.objects.get(status="open", system="xero")
    assert (item.kind, item.title, item.occurrences) == ("connection", "Reconnect Xero", 2)
    connect_xero(hub)
    review_item_resolve(item=item, by=None, action="retry")
    wait_for(
        lambda: Job.objects.filter(pk__in=[first.pk, second.pk], status="invoiced").count() == 1,
        what="the job with known item codes to be invoiced",
    )
