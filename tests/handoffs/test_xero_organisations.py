"""Several Xero organisations: the default, rules for a pipeline and a customer, a contact
of its own in each organisation, and events from the second one (through the sandbox)."""

import uuid

import pytest
from django.urls import reverse

from connectors.errors import Invalid
from connectors.models import InvoiceSettings
from connectors.sandbox.xero import books, console
from connectors.xero import connect
from connectors.xero.finance import XeroFinance
from handoffs.reconcile import reconcile
from handoffs.review_actions.item_codes import _known_codes
from onboarding.in_flight import work_in_flight_import
from operations import services
from operations.models import Job
from ownership.models import InvoiceRoute, Link, Record
from review_queue.models import ReviewItem
from tests.conftest import hub_settled
from tests.helpers import wait_for
from tests.xero_helpers import (
    bookkeeper,
    connect_xero,
    finished_job,
    xero_org,
    xero_second_org,
)


def _connect_both(hub) -> tuple:
    first, second = xero_org(hub), xero_second_org(hub)
    connect_xero(hub, first)
    connect_xero(hub, second)
    return first, second


def _invoiced(job: Job) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    return Job.objects.get(pk=job.pk)


def _finish(job: Job, django_user_model) -> None:
    services.job_transition(job=job, to="in_progress")
    tech, _ = django_user_model.objects.get_or_create(username="tech")
    services.job_complete(job=job, by=tech, note="Done.")


def _customer(job: Job) -> Record:
    return Record.objects.get(
        type="customer", links__system="operations", links__external_id=str(job.customer_id)
    )


def _default(org) -> None:
    InvoiceSettings.objects.filter(pk=InvoiceSettings.current().pk).update(
        default_organisation=org.tenant_id
    )


def _pipeline_to(org, pipeline: str, name: str) -> None:
    InvoiceRoute.objects.create(
        kind="pipeline",
        pipeline=pipeline,
        pipeline_name=name,
        organisation=org.tenant_id,
        organisation_name=org.name,
    )


def _admin(client, django_user_model):
    admin = django_user_model.objects.create_user("boss", is_staff=True)
    client.force_login(admin)
    return admin


def test_with_two_connected_and_none_chosen_invoices_wait_on_one_item_until_an_admin_chooses(
    hub, django_user_model, client
):
    first, second = _connect_both(hub)
    job = finished_job(hub, django_user_model, "safety switch upgrade")
    item = wait_for(
        lambda: ReviewItem.objects.filter(
            root_key="xero:choose-organisation", status="open"
        ).first(),
        what="the item asking for the organisation",
    )
    assert item.title == "Choose the Xero organisation to invoice"
    assert "Demo Trades Brisbane Pty Ltd" in item.reason and "Xero page" in item.action
    assert first.invoices == {} and second.invoices == {}  # nothing guessed

    admin = _admin(client, django_user_model)
    detail = client.get(reverse("review_queue:detail", args=[item.pk])).content.decode()
    assert "Open the Xero page" in detail and reverse("connectors:xero") in detail
    page = client.get(reverse("connectors:xero")).content.decode()
    assert "Not chosen: invoices wait until you choose." in page
    client.post(reverse("connectors:default"), {"organisation": second.tenant_id})

    job = _invoiced(job)
    (invoice,) = second.invoices.values()
    assert first.invoices == {} and invoice["Reference"] == job.number
    item.refresh_from_db()
    assert item.status == "resolved"
    change = InvoiceSettings.current().history.first()
    assert (change.default_organisation, change.history_user) == (second.tenant_id, admin)
    # The job page and the invoicing run both say which organisation.
    assert "Demo Trades Brisbane Pty Ltd" in client.get(f"/jobs/{job.number}/").content.decode()
    run = job_run(job)
    assert "Xero (Demo Trades Brisbane Pty Ltd)" in run.summary
    assert run.result["organisation"] == second.tenant_id


def job_run(job: Job):
    from handoffs.flows.job_done_to_invoice import invoicing_run

    return invoicing_run(job.number)


def test_a_pipeline_rule_sends_its_deals_invoices_to_the_other_organisation(hub, django_user_model):
    first, second = _connect_both(hub)
    _default(first)
    _pipeline_to(second, "2001", "Maintenance contracts")
    deal = next(
        d for d in hub.sandbox.store.list("deals") if "safety switch" in d["properties"]["dealname"]
    )
    hub.sandbox.store.update("deals", deal["id"], {"pipeline": "2001", "dealstage": "2001003"})
    job = wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")
    _finish(job, django_user_model)
    job = _invoiced(job)
    (invoice,) = second.invoices.values()
    assert first.invoices == {} and invoice["Reference"] == job.number
    # The customer's contact was made in that organisation, and its link says so.
    contact_id = invoice["Contact"]["ContactID"]
    assert contact_id in second.contacts and contact_id not in first.contacts
    link = Link.objects.get(record=_customer(job), system="xero")
    assert (link.external_id, link.organisation) == (contact_id, second.tenant_id)


def test_a_customer_rule_wins_and_the_customer_gets_a_contact_of_its_own_there(
    hub, django_user_model
):
    first, second = _connect_both(hub)
    _default(first)
    job = _invoiced(finished_job(hub, django_user_model, "safety switch upgrade"))
    (in_first,) = first.invoices.values()
    first_contact = in_first["Contact"]["ContactID"]
    customer = _customer(job)
    # The pipeline says the first organisation; the customer's own rule says the second.
    _pipeline_to(first, "default", "Sales Pipeline")
    InvoiceRoute.objects.create(
        kind="customer",
        customer=customer,
        organisation=second.tenant_id,
        organisation_name=second.name,
    )
    # A job of the same customer made in the register itself (no deal): its rule applies.
    again, _ = services.job_create(
        customer=job.customer,
        title="Second visit",
        lines=[
            {
                "description": "Call-out fee",
                "quantity": 1,
                "unit_price": "95.00",
                "item_code": "CALLOUT",
            }
        ],
    )
    _finish(again, django_user_model)
    again = _invoiced(again)
    (in_second,) = second.invoices.values()
    assert in_second["Reference"] == again.number
    second_contact = in_second["Contact"]["ContactID"]
    assert second_contact != first_contact and second_contact in second.contacts
    assert second.contacts[second_contact]["Name"] == first.contacts[first_contact]["Name"]
    assert dict(
        Link.objects.filter(record=customer, system="xero").values_list(
            "organisation", "external_id"
        )
    ) == {first.tenant_id: first_contact, second.tenant_id: second_contact}


def test_a_payment_in_the_second_organisation_reaches_its_job(hub, django_user_model):
    first, second = _connect_both(hub)
    _default(first)
    _pipeline_to(second, "default", "Sales Pipeline")
    job = _invoiced(finished_job(hub, django_user_model, "safety switch upgrade"))
    (invoice,) = second.invoices.values()
    bookkeeper(hub, invoice, "approve")
    bookkeeper(hub, invoice, "pay", amount=str(invoice["Total"]))
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "paid", what="the job to be paid")
    assert first.invoices == {}


def test_with_one_organisation_connected_it_is_the_default(hub, django_user_model):
    connect_xero(hub, xero_second_org(hub))
    job = _invoiced(finished_job(hub, django_user_model, "safety switch upgrade"))
    (invoice,) = xero_second_org(hub).invoices.values()
    assert invoice["Reference"] == job.number
    assert not ReviewItem.objects.filter(root_key="xero:choose-organisation").exists()


def test_the_nightly_check_reads_each_customer_and_invoice_in_its_own_organisation(
    hub, django_user_model
):
    first, second = _connect_both(hub)
    _default(first)
    _pipeline_to(second, "default", "Sales Pipeline")
    job = _invoiced(finished_job(hub, django_user_model, "safety switch upgrade"))
    (invoice,) = second.invoices.values()
    contact_id = invoice["Contact"]["ContactID"]
    wait_for(lambda: hub_settled(hub), what="the hub to finish what it has in hand")
    hub.xero.sender.wait_idle()
    url, hub.xero.sender.webhook_url = hub.xero.sender.webhook_url, ""
    try:  # changed in the second organisation with no event: only the check can see it
        console.act(
            hub.xero.store, [second.tenant_id, "contacts", contact_id], {"Name": "Greenway Kids"}
        )
        stray = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "Reference": "DEPOSIT",
            "LineItems": [{"Description": "Deposit", "Quantity": 1, "UnitAmount": 500}],
        }
        books.save_many(hub.xero.store, second, "Invoices", [stray], False)
    finally:
        hub.xero.sender.webhook_url = url

    run = reconcile(asked_by="test")

    assert run.state == "done", run.problem
    assert ("operations", "billing_name") in {
        (f.system, f.field) for f in run.findings.filter(kind="carried")
    }
    assert Job.objects.get(pk=job.pk).customer.name == "Greenway Kids"
    (deposit,) = [i for i in second.invoices.values() if i["Reference"] == "DEPOSIT"]
    (orphan,) = run.findings.filter(kind="invoice_without_job")
    assert orphan.record_label.startswith(deposit["InvoiceNumber"])


@pytest.mark.django_db
def test_connecting_a_second_organisation_keeps_the_first_as_the_default():
    token = {"access_token": "a", "refresh_token": "r", "expires_in": 1800, "scope": ""}
    first = {"tenant_id": "t-1", "tenant_name": "First Pty Ltd", "connection_id": "c-1"}
    second = {"tenant_id": "t-2", "tenant_name": "Second Pty Ltd", "connection_id": "c-2"}
    connect.tenants_connect(token=token, tenants=[first])
    assert InvoiceSettings.current().default_organisation == ""  # the only one: no need
    connect.tenants_connect(token=token, tenants=[second])
    assert InvoiceSettings.current().default_organisation == "t-1"
    assert (
        InvoiceSettings.current()
        .history.first()
        .history_change_reason.startswith("Default organisation kept")
    )


@pytest.mark.django_db
def test_two_connected_at_once_leave_the_choice_to_the_admin():
    token = {"access_token": "a", "refresh_token": "r", "expires_in": 1800, "scope": ""}
    both = [
        {"tenant_id": f"t-{n}", "tenant_name": f"Org {n}", "connection_id": f"c-{n}"}
        for n in (1, 2)
    ]
    connect.tenants_connect(token=token, tenants=both)
    assert InvoiceSettings.current().default_organisation == ""
    with pytest.raises(Invalid) as refused:
        XeroFinance().organisation_default()
    assert refused.value.root == "xero:choose-organisation"
    assert "Org 1, Org 2" in refused.value.message


def test_an_unknown_item_code_offers_the_codes_of_the_organisation_that_refused_it(
    hub, django_user_model
):
    first, second = _connect_both(hub)
    _default(second)
    second.items["LED-600P"] = dict(second.items["RCBO"], Code="LED-600P", ItemID=str(uuid.uuid4()))
    finished_job(hub, django_user_model, "common-area lighting")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="missing_data", system="xero").first(),
        what="the item",
    )
    assert item.details["organisation"] == second.tenant_id
    assert ("LED-600P", "LED-600P") in _known_codes(item)  # the second organisation's own


def test_a_setup_problem_in_each_organisation_is_an_item_of_its_own(hub):
    first, second = _connect_both(hub)
    first.currencies.pop("NZD", None)
    second.currencies.pop("NZD", None)
    refused = {
        org.name: XeroFinance(org.tenant_id).invoice_currencies_check({"J-1": "NZD"})["J-1"]
        for org in (first, second)
    }
    assert refused[first.name].root != refused[second.name].root
    for org in (first, second):
        assert org.name in str(refused[org.name])


def test_the_work_in_flight_is_read_in_every_organisation(hub):
    first, second = _connect_both(hub)
    _default(first)
    url, hub.xero.sender.webhook_url = hub.xero.sender.webhook_url, ""  # before the hub
    try:
        _, made = books.save_many(hub.xero.store, second, "Contacts", [{"Name": "Far Away"}], False)
        line = {"Description": "Deposit", "Quantity": 1, "UnitAmount": 500, "AccountCode": "200"}
        element = {
            "Type": "ACCREC",
            "Status": "AUTHORISED",
            "Reference": "DEPOSIT",
            "Contact": {"ContactID": made["Contacts"][0]["ContactID"]},
            "LineItems": [line],
        }
        _, made = books.save_many(hub.xero.store, second, "Invoices", [element], False)
    finally:
        hub.xero.sender.webhook_url = url

    said = work_in_flight_import()

    assert said["invoices_alone"] == 1
    link = Link.objects.get(system="xero", external_id=made["Invoices"][0]["InvoiceID"])
    assert link.organisation == second.tenant_id
