"""The first match (onboarding/first_match.py) through both sandboxes and a real worker:
certain matches linked, the rest proposed once, the work in flight made known, and a
second run that changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from connectors.sandbox.xero import books
from handoffs.reconcile import reconcile
from onboarding.first_match import first_match
from onboarding.models import FirstMatch
from operations.models import Customer, Job
from ownership.models import Distinct, Link, Proposal, Record
from review_queue.models import ReviewItem
from tests.conftest import hub_settled
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, finished_job, xero_invoices

pytestmark = pytest.mark.django_db(transaction=True)


def organisation(hub):
    return next(iter(hub.xero.store.organisations.values()))


def xero_saved(hub, kind: str, element: dict) -> dict:
    """Save a contact or an invoice in Xero as its bookkeeper would, before the hub was set up
    (no webhook: the first match is how the hub learns of it)."""
    url, hub.xero.sender.webhook_url = hub.xero.sender.webhook_url, ""
    try:
        status, answer = books.save_many(hub.xero.store, organisation(hub), kind, [element], False)
    finally:
        hub.xero.sender.webhook_url = url
    assert status == 200, answer
    return answer[kind][0]


def xero_contact(hub, **fields) -> str:
    return xero_saved(hub, "Contacts", fields)["ContactID"]


def company_id(hub, name: str) -> str:
    companies = hub.sandbox.store.list("companies")
    return next(c["id"] for c in companies if c["properties"]["name"] == name)


def record_of(system: str, external_id: str) -> Record | None:
    return Record.objects.filter(links__system=system, links__external_id=external_id).first()


def quiet(hub) -> None:
    wait_for(lambda: hub_settled(hub), what="the hub to finish what it has in hand")


@pytest.fixture
def three_lists(hub):
    """HubSpot's demo companies, three Xero contacts like some of them, two register customers."""
    connect_xero(hub)
    ids = {
        "cafe": xero_contact(hub, Name="Harbour View Cafe Pty Ltd", TaxNumber="51824753556"),
        "kestrel": xero_contact(hub, Name="Kestrel Property Grp"),
        "bondi": xero_contact(hub, Name="Bondi Physio and Pilates", EmailAddress="bondi@gmail.com"),
        "plumber": xero_contact(hub, Name="Unrelated Plumbing"),
    }
    Customer.objects.create(name="Bondi Physio", email="jack@bondiphysio.com.au")
    Customer.objects.create(name="Lonely Lawns")
    return ids


def test_certain_matches_are_linked_the_rest_proposed_once_and_a_second_run_changes_nothing(
    hub, three_lists
):
    match = first_match(asked_by="test")

    assert match.state == "done", match.problem
    cafe = record_of("hubspot", company_id(hub, "Harbour View Cafe"))
    assert record_of("xero", three_lists["cafe"]) == cafe
    assert cafe.links.get(system="xero").reason == "the same ABN"
    bondi = Customer.objects.get(name="Bondi Physio")
    assert record_of("operations", str(bondi.pk)) == record_of(
        "hubspot", company_id(hub, "Bondi Physio & Pilates")
    )
    proposed = {(p.name, p.target, p.candidates[0]["id"], p.why) for p in Proposal.objects.all()}
    # Bondi is asked about once (from HubSpot), not again from the register.
    assert proposed == {
        ("Kestrel Property Group", "xero", three_lists["kestrel"], "a similar name"),
        ("Bondi Physio & Pilates", "xero", three_lists["bondi"], "the same name"),
    }
    assert (match.matched, match.proposed) == (2, 2)
    assert record_of("xero", three_lists["plumber"]).links.count() == 1
    assert record_of("operations", str(Customer.objects.get(name="Lonely Lawns").pk))
    assert not ReviewItem.objects.filter(kind="duplicate").exists()
    quiet(hub)  # the won deals it sent to become jobs link their records as they go
    links, proposals = Link.objects.count(), Proposal.objects.count()

    again = first_match(asked_by="test")

    assert (again.state, again.matched, again.proposed) == ("done", 0, 0)
    assert (Link.objects.count(), Proposal.objects.count()) == (links, proposals)
    assert FirstMatch.objects.count() == 2


def test_staff_decide_proposals_in_bulk_and_the_nightly_check_does_not_ask_again(
    hub, three_lists, office_staff, client
):
    first_match(asked_by="test")
    client.force_login(office_staff)
    kestrel = Proposal.objects.get(name="Kestrel Property Group")
    bondi = Proposal.objects.get(name="Bondi Physio & Pilates")
    page = client.get(reverse("onboarding:proposals"), {"q": "kestrel"})
    assert b"Kestrel Property Grp" in page.content and b"Bondi" not in page.content

    client.post(reverse("onboarding:proposals"), {"decision": "link", "pick": [kestrel.pk]})
    client.post(
        reverse("onboarding:proposals"),
        {"decision": "new", "all": "1", "q": "bondi", "state": "open"},
    )

    kestrel.refresh_from_db(), bondi.refresh_from_db()
    assert (kestrel.state, bondi.state) == ("linked", "new")
    assert kestrel.decided_by == office_staff
    company = company_id(hub, "Kestrel Property Group")
    assert record_of("xero", three_lists["kestrel"]) == record_of("hubspot", company)
    assert Distinct.objects.filter(external_id=three_lists["bondi"]).exists()
    quiet(hub)

    run = reconcile(asked_by="test")

    assert run.state == "done", run.problem
    assert not ReviewItem.objects.filter(kind="duplicate", status="open").exists()
    assert not Proposal.objects.filter(state="open").exists()


def test_the_work_in_flight_is_made_known_and_nothing_is_invoiced_twice(
    hub, django_user_model, three_lists
):
    invoiced = finished_job(hub, django_user_model, "safety switch upgrade")
    wait_for(lambda: Job.objects.get(pk=invoiced.pk).status == "invoiced", what="the invoice")
    quiet(hub)
    # Before the hub: the register knew the job as done, and nothing linked its invoice.
    Job.objects.filter(pk=invoiced.pk).update(status="done", invoice_number="")
    Record.objects.filter(type="invoice").delete()
    # A won deal the hub never heard of, and an open invoice that is no job's.
    deal = next(
        d for d in hub.sandbox.store.list("deals") if d["properties"]["dealstage"] != "closedwon"
    )
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"}, notify=False)
    line = {"Description": "Deposit", "Quantity": 1, "UnitAmount": 500, "AccountCode": "200"}
    element = {
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Reference": "DEPOSIT",
        "Contact": {"ContactID": three_lists["cafe"]},
        "LineItems": [line],
    }
    xero_saved(hub, "Invoices", element)

    match = first_match(asked_by="test")

    assert match.state == "done", match.problem
    # The deal won unannounced, and any other the demo's pipelines hold won with no job.
    assert match.in_flight.pop("deals") >= 1
    assert match.in_flight == {
        "jobs_linked": 1,
        "jobs_invoiced": 0,
        "invoices_with_job": 0,
        "invoices_alone": 1,
    }
    wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).exists(), what="the deal's job")
    quiet(hub)
    assert len([i for i in xero_invoices(hub) if i["Reference"] == invoiced.number]) == 1
    invoice = Record.objects.get(type="invoice", links__external_id=invoiced.number)
    assert invoice.links.get(system="xero").reason == f"made for job {invoiced.number}"
    assert Job.objects.get(pk=invoiced.pk).status == "invoiced"
    check = reconcile(asked_by="test")
    assert check.state == "done", check.problem
    assert not ReviewItem.objects.filter(root_key__startswith="invoice-without-job").exists()
    quiet(hub)
    again = first_match(asked_by="test")
    assert again.imported == 0, again.in_flight


def test_onboard_shows_the_steps_and_runs_the_first_match(hub, three_lists):
    out = StringIO()

    call_command("onboard", stdout=out)

    said = out.getvalue()
    assert "1. Connect HubSpot: done" in said
    assert "2. Connect Xero: done" in said
    assert "3. Webhooks reach the hub: to do" in said
    assert "First match: 2 linked, 2 proposed" in said
    assert FirstMatch.objects.get().state == "done"
