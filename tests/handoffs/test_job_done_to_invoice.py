"""A finished job becomes exactly one DRAFT invoice in Xero (through the sandbox and a worker)."""

from datetime import timedelta
from unittest.mock import ANY

from django.utils import timezone

from connectors.errors import NotFound
from handoffs.models import HandoffRun
from operations import services
from operations.models import Job, JobLine
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, finished_job, won_job, xero_invoices


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


def test_a_city_written_with_its_state_and_postcode_reaches_xero_in_its_own_fields(
    hub, django_user_model
):
    connect_xero(hub)
    deal = next(
        d for d in hub.sandbox.store.list("deals") if "safety switch" in d["properties"]["dealname"]
    )
    (company_id,) = hub.sandbox.store.associated_ids("deals", deal["id"], "companies")
    hub.sandbox.store.update(
        "companies", company_id, {"city": "Marrickville NSW 2204", "state": "", "zip": ""}
    )
    job = finished_job(hub, django_user_model, "safety switch upgrade")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    contact = next(iter(hub.xero.store.organisations.values())).contacts[
        invoice["Contact"]["ContactID"]
    ]
    (address,) = contact["Addresses"]
    assert (address["City"], address["Region"], address["PostalCode"]) == (
        "Marrickville",
        "NSW",
        "2204",
    )


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
    assert "1 line with item code LED-600 will use FITOUT-EL" in preview
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
    assert (item.kind, item.title) == ("connection", "Reconnect Xero")
    # One item for the one cause: the invoices wait on it (so do the customers' matching).
    assert set(waiting.values_list("review_item", flat=True)) == {item.pk}
    connect_xero(hub)
    review_item_resolve(item=item, by=None, action="retry")
    wait_for(
        lambda: Job.objects.filter(pk__in=[first.pk, second.pk], status="invoiced").count() == 1,
        what="the job with known item codes to be invoiced",
    )


def test_jobs_finished_together_share_one_request_and_keep_their_own_errors(hub, django_user_model):
    connect_xero(hub)
    names = ["safety switch upgrade", "common-area lighting", "emergency lighting test"]
    jobs = [won_job(hub, name) for name in names]
    tech = django_user_model.objects.create_user("tech")
    for job in jobs:  # finished within the same second
        services.job_transition(job=job, to="in_progress")
        services.job_complete(job=job, by=tech, note="Done.")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="missing_data", system="xero").first(),
        what="the refused invoice's item",
    )
    wait_for(
        lambda: Job.objects.filter(pk__in=[j.pk for j in jobs], status="invoiced").count() == 2,
        what="the two good jobs to be invoiced",
    )
    org = next(iter(hub.xero.store.organisations.values()))
    assert org.requests["PUT /Invoices"] == 1
    assert item.details["bad_item_codes"] == ["LED-600"] and item.record_ref == jobs[1].number
    assert sorted(i["Reference"] for i in xero_invoices(hub)) == [jobs[0].number, jobs[2].number]


def test_in_a_batch_one_jobs_own_failure_stays_its_own(hub, django_user_model):
    from handoffs.flows.job_done_to_invoice import batch
    from handoffs.registry import Outcome

    connect_xero(hub)
    job = won_job(hub, "safety switch upgrade")
    runs = [
        HandoffRun.objects.create(
            handoff="job_done_to_invoice",
            key=f"k-{ref}",
            queue="xero",
            record_system="operations",
            record_type="job",
            record_ref=ref,
            state="running",  # as batch() finds its runs: claimed, so no worker takes them
            lease_expires_at=timezone.now() + timedelta(hours=1),
        )
        for ref in ("J-404", job.number)
    ]
    missing, made = batch(runs)
    HandoffRun.objects.filter(pk__in=[run.pk for run in runs]).update(state="done")
    assert isinstance(missing, NotFound) and "no job J-404" in missing.message
    assert isinstance(made, Outcome) and "Draft invoice" in made.summary
    assert [i["Reference"] for i in xero_invoices(hub)] == [job.number]


def test_a_job_whose_invoice_xero_made_unrecorded_never_gets_a_second_one(hub, django_user_model):
    """The issue's sequence: Xero makes a batch's invoices, the worker dies before recording
    them, Xero then fails during recovery, the runs go to review and staff press Retry; the
    job is re-batched with another job, so no Idempotency-Key can save it."""
    connect_xero(hub)
    first = finished_job(hub, django_user_model, "safety switch upgrade")
    runs = HandoffRun.objects.filter(handoff="job_done_to_invoice", record_ref=first.number)
    run = wait_for(lambda: runs.filter(state="done").first(), what="the invoice's run to finish")
    (made,) = xero_invoices(hub)
    # As if the worker died right after Xero answered: nothing of the answer was recorded.
    Job.objects.filter(pk=first.pk).update(
        status="done", invoice_number="", invoice_status="", amount_invoiced=None
    )
    # Xero fails from now on; only then may a worker take the run again.
    hub.xero.store.faults = {"status": 503}
    HandoffRun.objects.filter(pk=run.pk).update(
        state="retrying",
        next_attempt_at=timezone.now(),
        effect_sent_at=timezone.now() - timedelta(minutes=5),
    )
    second = finished_job(hub, django_user_model, "common-area lighting")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="unavailable", status="open").first(),
        what="Xero's outage to become one item",
    )
    invoicing = HandoffRun.objects.filter(handoff="job_done_to_invoice")
    wait_for(
        lambda: invoicing.filter(review_item=item).count() == 2,
        what="both jobs' runs to wait on it",
    )
    hub.xero.store.faults = {}
    JobLine.objects.filter(job=second, item_code="LED-600").update(item_code="LABOUR-HR")
    review_item_resolve(item=item, by=None, action="retry")
    wait_for(
        lambda: Job.objects.filter(pk__in=[first.pk, second.pk], status="invoiced").count() == 2,
        what="both jobs invoiced",
    )
    by_job = sorted((i["Reference"], i["InvoiceNumber"]) for i in xero_invoices(hub))
    assert by_job == sorted([(first.number, made["InvoiceNumber"]), (second.number, ANY)])
    assert Job.objects.get(pk=first.pk).invoice_number == made["InvoiceNumber"]


def test_a_batch_xero_refused_with_429_is_sent_again_without_looking_it_up(hub, django_user_model):
    connect_xero(hub)
    org = hub.xero.store.organisations[next(iter(hub.xero.store.organisations))]
    hub.xero.store.fault_add(operation="PUT /Invoices", status=429, count=1, retry_after=5)
    job = finished_job(hub, django_user_model, "safety switch upgrade")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    assert [f["count"] for f in hub.xero.store.call_faults] == [0]  # the 429 did happen
    # Xero acted on nothing: no lookup by reference, no settling wait, one invoice.
    assert org.requests["GET /Invoices"] == 0
    assert len(xero_invoices(hub)) == 1
