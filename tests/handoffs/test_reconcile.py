"""The check that the systems agree (handoffs/reconcile.py), through a real worker and both
sandboxes: what no event told the hub of is found, fixed by its rule or made one item, and
a second check opens nothing new."""

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from connectors.sandbox.xero import books, console
from handoffs.models import HandoffRun, ReconcileFinding, ReconcileRun
from handoffs.reconcile import reconcile
from operations import services
from operations.models import Customer, Job
from ownership.models import Link, Record
from review_queue.actions import actions_for
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.conftest import hub_settled
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, invoiced_job, won_job, xero_invoices


@contextmanager
def unannounced(hub):
    """Changes made inside send no webhook: as if their events were lost on the way."""
    hub.sandbox.sender.wait_idle()
    hub.xero.sender.wait_idle()
    listeners, hub.sandbox.store.listeners = hub.sandbox.store.listeners, []
    url, hub.xero.sender.webhook_url = hub.xero.sender.webhook_url, ""
    try:
        yield
    finally:
        hub.sandbox.store.listeners, hub.xero.sender.webhook_url = listeners, url


def quiet(hub) -> None:
    wait_for(lambda: hub_settled(hub), what="the hub to finish what it has in hand")


def organisation(hub):
    return next(iter(hub.xero.store.organisations.values()))


def company_of(hub, job: Job) -> str:
    return hub.sandbox.store.associated_ids("deals", job.origin_ref, "companies")[0]


def company(hub, company_id: str) -> dict:
    return hub.sandbox.store.get("companies", company_id)["properties"]


def found(run: ReconcileRun, kind: str) -> list[ReconcileFinding]:
    return list(run.findings.filter(kind=kind))


def test_edits_no_event_told_of_are_fixed_by_their_rules_and_a_second_check_is_quiet(
    hub, django_user_model
):
    job, invoice = invoiced_job(hub, django_user_model)
    contact_id, company_id = invoice["Contact"]["ContactID"], company_of(hub, job)
    xero_abn = organisation(hub).contacts[contact_id]["TaxNumber"]
    quiet(hub)
    with unannounced(hub):
        tenant = organisation(hub).tenant_id
        # Xero owns the billing name: renamed there, it is carried to HubSpot and the register.
        console.act(hub.xero.store, [tenant, "contacts", contact_id], {"Name": "Greenway Kids"})
        # ... and the ABN (rule: restore): edited in HubSpot, Xero's goes back.
        hub.sandbox.store.update("companies", company_id, {"abn": "11111111111"}, notify=False)
        # The CRM owns the phone (rule: flag): edited in the register, a person decides.
        Customer.objects.filter(pk=job.customer_id).update(phone="0499 999 999")

    run = reconcile(asked_by="test")

    assert run.state == "done", run.problem
    assert {(f.system, f.field) for f in found(run, "carried")} >= {
        ("hubspot", "billing_name"),
        ("operations", "billing_name"),
    }
    assert [(f.system, f.field) for f in found(run, "restored")] == [("hubspot", "tax_number")]
    assert [f.field for f in found(run, "flagged")] == ["phone"]
    assert company(hub, company_id)["name"] == "Greenway Kids"
    assert company(hub, company_id)["abn"] == xero_abn  # spacing and all
    assert Customer.objects.get(pk=job.customer_id).name == "Greenway Kids"
    item = ReviewItem.objects.get(kind="disagreement", status="open")
    assert found(run, "flagged")[0].review_item == item
    assert run.records >= 3 and run.fields > 10
    quiet(hub)

    again = reconcile(asked_by="test")

    assert (again.carried, again.restored, again.flagged, again.missed) == (0, 0, 1, 0)
    # Linked in all three systems: not matched again.
    customer = Record.objects.get(type="customer", links__external_id=company_id)
    assert not again.findings.filter(record=customer, kind__in=["linked", "unlinked"])
    assert ReviewItem.objects.filter(status="open").count() == 1


def test_a_dry_run_reports_what_it_would_do_and_changes_nothing(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    company_id = company_of(hub, job)
    quiet(hub)
    hub.sandbox.store.update("companies", company_id, {"abn": "11111111111"}, notify=False)
    items, runs = ReviewItem.objects.count(), HandoffRun.objects.count()

    run = reconcile(dry_run=True, asked_by="test")

    assert run.dry_run and run.restored == 1
    assert [(f.system, f.field) for f in found(run, "restored")] == [("hubspot", "tax_number")]
    assert company(hub, company_id)["abn"] == "11111111111"
    assert (ReviewItem.objects.count(), HandoffRun.objects.count()) == (items, runs)


def test_a_job_done_whose_event_was_lost_is_invoiced(hub, django_user_model):
    connect_xero(hub)
    job = won_job(hub, "safety switch upgrade")
    services.job_transition(job=job, to="in_progress")
    quiet(hub)
    Job.objects.filter(pk=job.pk).update(status="done")  # no event: as if it were lost

    run = reconcile(asked_by="test")

    (missed,) = found(run, "not_invoiced")
    assert (missed.record_label, missed.detail) == (job.number, "invoicing started")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    quiet(hub)
    assert not found(reconcile(asked_by="test"), "not_invoiced")
    assert len(xero_invoices(hub)) == 1


def test_an_open_invoice_with_no_job_is_one_item_that_stays_dismissed(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    quiet(hub)
    with unannounced(hub):
        org = organisation(hub)
        stray = {
            "Type": "ACCREC",
            "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
            "Reference": "DEPOSIT",
            "LineItems": [{"Description": "Deposit", "Quantity": 1, "UnitAmount": 500}],
        }
        books.save_many(hub.xero.store, org, "Invoices", [stray], False)

    first = reconcile(asked_by="test")

    (orphan,) = found(first, "invoice_without_job")
    item = orphan.review_item
    assert item.title.endswith("has no job") and "'DEPOSIT' is no job's number" in item.reason
    second = reconcile(asked_by="test")
    assert found(second, "invoice_without_job")[0].review_item == item
    assert ReviewItem.objects.filter(kind="found").count() == 1
    review_item_resolve(item=item, by=None, action="dismiss", note="A deposit, not job work.")
    third = reconcile(asked_by="test")
    assert found(third, "invoice_without_job")[0].review_item is None
    assert ReviewItem.objects.filter(kind="found", status="open").count() == 0


def test_a_deal_lost_while_its_job_goes_on_is_one_item(hub):
    job = won_job(hub, "safety switch upgrade")
    quiet(hub)
    record = Record.objects.get(type="deal", links__system="hubspot")
    assert Link.objects.filter(record=record, system="operations", external_id=job.number)
    hub.sandbox.store.update("deals", job.origin_ref, {"dealstage": "closedlost"}, notify=False)

    run = reconcile(asked_by="test")

    (lost,) = found(run, "deal_lost")
    assert lost.review_item.title.startswith(f"Deal lost but job {job.number} goes on")
    quiet(hub)
    assert found(reconcile(asked_by="test"), "deal_lost")[0].review_item == lost.review_item


def test_a_customer_no_event_told_of_is_linked_by_its_abn(hub, django_user_model):
    connect_xero(hub)
    with unannounced(hub):
        contact = {"Name": "Harbour Cafe", "TaxNumber": "53 004 085 616", "ContactStatus": "ACTIVE"}
        books.save_many(hub.xero.store, organisation(hub), "Contacts", [contact], False)
        made = hub.sandbox.store.create("companies", {"name": "Harbour Café", "abn": "53004085616"})

    run = reconcile(asked_by="test")

    record = Record.objects.get(links__system="hubspot", links__external_id=made["id"])
    assert set(record.links.values_list("system", flat=True)) >= {"hubspot", "xero"}
    # One finding of its linking, however many systems showed it; then the names are
    # compared: HubSpot's "Café" is not Xero's (the owner's) "Cafe", so a person decides.
    assert [f.kind for f in run.findings.filter(record=record)] == ["linked", "flagged"]
    # "In one system only" is said only of customers that are.
    loners = run.findings.filter(kind="unlinked").select_related("record")
    assert loners and all(f.record.links.count() == 1 for f in loners)
    quiet(hub)


def test_a_check_that_cannot_read_a_system_is_one_item_until_one_finishes(hub):
    connect_xero(hub)
    hub.xero.store.faults = {"status": 503}
    try:
        failed = reconcile(asked_by="test")
    finally:
        hub.xero.store.faults = {}

    assert failed.state == "failed" and "Xero" in failed.problem
    item = ReviewItem.objects.get(kind="found", status="open")
    assert item.title == "The check that the systems agree did not finish"
    assert [a.name for a in actions_for(item)] == ["check_again"]
    assert reconcile(asked_by="test").state == "done"
    assert ReviewItem.objects.get(pk=item.pk).status == "resolved"


def test_the_command_says_what_it_found_and_refuses_a_bad_date(hub):
    connect_xero(hub)
    out = StringIO()
    call_command("reconcile", "--dry-run", "--since", "2026-11-01", stdout=out)
    said = out.getvalue()
    assert said.startswith("  customers:") and "Dry run: nothing was changed." in said
    run = ReconcileRun.objects.get()
    assert run.dry_run and timezone.localtime(run.since).isoformat().startswith("2026-11-01T00:00")
    with pytest.raises(CommandError, match="--since wants a date"):
        call_command("reconcile", "--since", "yesterday")
