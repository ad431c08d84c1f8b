"""What the hub already knows is not read again (issue 14, vendor calls per event).

- An invoice paid in Xero moves its job in the register (invoiced → paid): the run that
  carried the payment brings the job's status to the deal too, so the register's event for
  that move finds every system agreeing and reads nothing.
- Xero telling of an invoice the hub itself made (its "created" event) reads nothing.
- Customers new to the hub that one batch of changes names are read together and looked
  for in Xero in one search.
- An invoice the hub made but could not bring in line then gets a run of its own.
- A deal's fields of several kinds (its job's and its invoice's) are read, and written, in
  one call.
"""

from django.utils import timezone

from connectors.base import InvoiceMade
from connectors.hubspot.crm import HubSpotCrm
from connectors.registry import operations
from handoffs.flows import job_done_to_invoice as invoicing
from handoffs.flows.shared_fields import batch
from handoffs.models import HandoffRun
from operations.models import Job
from ownership.engine import RecordBusy
from ownership.models import Record
from tests.helpers import wait_for
from tests.operations.factories import JobFactory, JobLineFactory
from tests.xero_helpers import bookkeeper, connect_xero, invoiced_job, xero_org


def deal(hub, job: Job) -> dict:
    return hub.sandbox.store.get("deals", job.origin_ref)["properties"]


def runs(system: str, kind: str) -> list[HandoffRun]:
    return list(
        HandoffRun.objects.filter(
            handoff="shared_fields", record_system=system, payload__type=kind
        ).order_by("pk")
    )


def test_the_run_that_carries_a_payment_brings_the_jobs_status_along(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    bookkeeper(hub, invoice, "approve")
    bookkeeper(hub, invoice, "pay", amount="3141.60")
    wait_for(lambda: deal(hub, job).get("job_status") == "paid", what="the status on the deal")
    paid = wait_for(
        lambda: next(
            (r for r in runs("operations", "job.status_changed") if r.payload["to"] == "paid"),
            None,
        ),
        what="the register's event",
    )
    paid = wait_for(
        lambda: HandoffRun.objects.filter(pk=paid.pk, state__in=["done", "skipped"]).first(),
        what="its run",
    )
    assert "which every system already has" in paid.summary, paid.summary
    carried = [
        r for r in runs("xero", "invoice.updated") if "HubSpot now has the job status" in r.summary
    ]
    assert carried, [r.summary for r in runs("xero", "invoice.updated")]


def test_xero_telling_of_an_invoice_the_hub_made_reads_nothing(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    made = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="shared_fields",
            record_ref=invoice["InvoiceID"],
            payload__type="invoice.created",
            state__in=["done", "skipped"],
        ).first(),
        what="the run of Xero's event",
    )
    assert "made and linked before Xero told of it" in made.summary, made.summary
    assert deal(hub, job)["invoice_number"] == invoice["InvoiceNumber"]


def changed(object_id: str, kind: str = "customer.changed") -> HandoffRun:
    """A HubSpot company's (or person's) change, held as a worker holds the batch it runs."""
    return HandoffRun.objects.create(
        handoff="shared_fields",
        key=f"hubspot:{kind}:{object_id}:test",
        queue="default",
        record_system="hubspot",
        record_type="record",
        record_ref=object_id,
        payload={"object_id": object_id, "type": kind, "property": "phone"},
        state="running",
        lease_expires_at=timezone.now() + timezone.timedelta(hours=1),
    )


def test_new_customers_of_one_batch_are_read_together_and_sought_in_xero_once(hub, monkeypatch):
    connect_xero(hub)
    monkeypatch.setattr(hub.sandbox.store, "listeners", [])  # no webhooks: this batch only
    companies = [
        hub.sandbox.store.create("companies", {"name": f"Newco {n} Pty Ltd", "phone": f"0{n}"})
        for n in range(3)
    ]
    held = [changed(company["id"]) for company in companies]
    org = xero_org(hub)
    org.requests.clear()
    hub.sandbox.store.requests.clear()
    outcomes = batch(held)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert org.requests["GET /Contacts"] == 1, org.requests
    assert hub.sandbox.store.requests["GET /crm/v3/objects/companies/{id}"] == 0
    for company in companies:
        assert Record.objects.filter(
            links__system="hubspot", links__external_id=company["id"]
        ).exists()
    HandoffRun.objects.filter(pk__in=[run.pk for run in held]).update(state="done")


def test_the_companies_of_a_batchs_people_are_asked_in_one_call(hub, monkeypatch):
    connect_xero(hub)
    monkeypatch.setattr(hub.sandbox.store, "listeners", [])
    people = [c["id"] for c in hub.sandbox.store.list("contacts")[:2]]
    held = [changed(person, "contact.changed") for person in people]
    hub.sandbox.store.requests.clear()
    batch(held)
    asked = {k: v for k, v in hub.sandbox.store.requests.items() if "contacts/companies" in k}
    each = "GET /crm/v4/objects/contacts/{id}/associations/companies"
    assert hub.sandbox.store.requests[each] == 0 and sum(asked.values()) == 1, asked
    HandoffRun.objects.filter(pk__in=[run.pk for run in held]).update(state="done")


def test_a_deals_fields_of_several_kinds_are_read_and_written_in_one_call(hub):
    (some,) = hub.sandbox.store.list("deals")[:1]
    crm = HubSpotCrm()
    hub.sandbox.store.requests.clear()
    crm.values_read_ahead({"job": [some["id"]], "invoice": [some["id"]]})
    job = crm.values_read("job", [some["id"]])
    invoice = crm.values_read("invoice", [some["id"]])
    assert (job[some["id"]]["number"], invoice[some["id"]]["number"]) == ("", "")
    answers = crm.values_write_together(
        {"job": {some["id"]: {"status": "done"}}, "invoice": {some["id"]: {"number": "INV-9"}}}
    )
    assert answers == {"job": {some["id"]: []}, "invoice": {some["id"]: []}}
    assert sum(hub.sandbox.store.requests.values()) == 2, hub.sandbox.store.requests
    shown = hub.sandbox.store.get("deals", some["id"])["properties"]
    assert (shown["job_status"], shown["invoice_number"]) == ("done", "INV-9")


def test_an_invoice_not_in_line_when_made_gets_a_run_of_its_own(hub, monkeypatch):
    """Xero's "created" event for an invoice the hub made reads nothing, so an invoice the
    making run could not bring in line (a system failed, its record was busy) is not left
    to that event: a run of its own brings it in line, retried until it does."""
    connect_xero(hub)
    job = JobFactory(status="done", origin_system="hubspot", origin_ref="1")
    JobLineFactory(job=job)
    busy = RecordBusy("Another run is bringing this record in line.", system="hub")
    monkeypatch.setattr(invoicing, "records_converge", lambda records, fresh: [busy] * len(records))
    made = InvoiceMade(reference=job.number, invoice_id="inv-1", number="INV-9", status="draft")
    (said,) = invoicing.invoices_record([(operations().job_read(job.number), made)]).values()
    assert "A run of its own brings the rest in line" in said.summary
    invoice = Record.objects.get(type="invoice", links__external_id="inv-1")
    (again,) = HandoffRun.objects.filter(handoff="shared_fields", record_ref=str(invoice.pk))
    assert again.payload["type"] == "record.choice" and again.state in (
        "pending",
        "running",
        "done",
    )
    wait_for(
        lambda: HandoffRun.objects.filter(pk=again.pk, state__in=["done", "skipped"]).exists()
        or HandoffRun.objects.filter(pk=again.pk, state="needs_review").exists(),
        what="the invoice's own run",
    )
