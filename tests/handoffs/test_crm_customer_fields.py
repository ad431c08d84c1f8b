"""Customer fields Xero owns (billing name, billing address, ABN), changed in the CRM:
flagged with both values, or restored, as the ownership rule says; and before the hub
creates a Xero contact it looks for the customer already there."""

from ownership.models import FieldRule
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, finished_job, invoiced_job, xero_invoices


def company_of(hub, job) -> str:
    return hub.sandbox.store.associated_ids("deals", job.origin_ref, "companies")[0]


def contact(hub, contact_id: str) -> dict:
    return next(iter(hub.xero.store.organisations.values())).contacts[contact_id]


def test_an_address_edited_in_the_crm_is_flagged_and_keeping_xeros_restores_it(
    hub, django_user_model, office_staff
):
    job, invoice = invoiced_job(hub, django_user_model)
    xero_street = contact(hub, invoice["Contact"]["ContactID"])["Addresses"][0]["AddressLine1"]
    company = company_of(hub, job)
    assert hub.sandbox.store.get("companies", company)["properties"]["address"] == xero_street
    hub.sandbox.store.update("companies", company, {"address": "1 Wrong Way"})
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="disagreement", system="hubspot").first(),
        what="the disagreement",
    )
    d = item.details
    assert (d["owner_name"], d["owner_value"], d["other_value"]) == (
        "Xero",
        xero_street,
        "1 Wrong Way",
    )
    preview = review_item_preview(item=item, action="keep_owner")
    assert f"Set address on HubSpot company {company} to {xero_street!r}" in preview
    review_item_resolve(item=item, by=office_staff, action="keep_owner")
    assert hub.sandbox.store.get("companies", company)["properties"]["address"] == xero_street
    # The hub's own write comes back as a webhook: an echo, not a new disagreement.
    hub.sandbox.sender.wait_idle()
    assert ReviewItem.objects.filter(kind="disagreement", status="open").count() == 0


def test_an_abn_edited_in_the_crm_is_restored_from_xero_by_rule(hub, django_user_model):
    assert FieldRule.objects.get(record_type="customer", field="tax_number").on_disagreement == (
        "restore"
    )
    job, invoice = invoiced_job(hub, django_user_model)
    contact(hub, invoice["Contact"]["ContactID"])["TaxNumber"] = "51 824 753 556"
    company = company_of(hub, job)
    hub.sandbox.store.update("companies", company, {"abn": "11 111 111 111"})
    wait_for(
        lambda: hub.sandbox.store.get("companies", company)["properties"]["abn"] == "51824753556",
        what="Xero's ABN back in HubSpot",
    )
    assert not ReviewItem.objects.filter(kind="disagreement").exists()


def test_a_same_named_xero_contact_is_a_possible_duplicate_and_linking_it_sends_the_invoice(
    hub, django_user_model, office_staff
):
    org = next(iter(hub.xero.store.organisations.values()))
    org.contacts["existing"] = {
        "ContactID": "existing",
        "Name": "Greenway Childcare Centre",
        "ContactStatus": "ACTIVE",
        "UpdatedDateUTC": "/Date(0+0000)/",
    }
    connect_xero(hub)
    finished_job(hub, django_user_model, "safety switch upgrade")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="possible_duplicate", system="xero").first(),
        what="the possible duplicate",
    )
    assert item.details["candidates"] == [
        {"id": "existing", "name": "Greenway Childcare Centre", "why": "same name"}
    ]
    assert xero_invoices(hub) == [] and len(org.contacts) == 2  # the seeded quote's contact
    review_item_resolve(item=item, by=office_staff, action="link_existing",
                        values={"customer": "existing"})  # fmt: skip
    wait_for(lambda: xero_invoices(hub), what="the invoice")
    assert xero_invoices(hub)[0]["Contact"]["ContactID"] == "existing"
    assert len(org.contacts) == 2


def test_a_billing_address_changed_in_xero_reaches_the_crm_and_the_register(hub, django_user_model):
    from connectors.sandbox.xero import console
    from operations.models import Customer

    job, invoice = invoiced_job(hub, django_user_model)
    org = next(iter(hub.xero.store.organisations.values()))
    contact_id = invoice["Contact"]["ContactID"]
    form = {"Name": contact(hub, contact_id)["Name"], "TaxNumber": "51 824 753 556",
            "AddressLine1": "9 New Rd", "City": "Ultimo", "Region": "NSW",
            "PostalCode": "2007"}  # fmt: skip
    console.act(hub.xero.store, [org.tenant_id, "contacts", contact_id], form)
    company = company_of(hub, job)
    wait_for(
        lambda: hub.sandbox.store.get("companies", company)["properties"]["address"] == "9 New Rd",
        what="Xero's address on the HubSpot company",
    )
    assert hub.sandbox.store.get("companies", company)["properties"]["abn"] == "51824753556"
    customer = Customer.objects.get(pk=job.customer_id)
    wait_for(lambda: Customer.objects.get(pk=customer.pk).address == "9 New Rd, Ultimo, NSW, 2007",
             what="the register's customer")  # fmt: skip
    # The HubSpot writes come back as webhooks: echoes, not disagreements.
    hub.sandbox.sender.wait_idle()
    assert not ReviewItem.objects.filter(kind="disagreement").exists()


def test_a_xero_address_change_for_a_customer_with_an_active_job_goes_to_operations(
    hub, django_user_model
):
    from decimal import Decimal

    from connectors.sandbox.xero import console
    from operations import services

    job, invoice = invoiced_job(hub, django_user_model)
    next_visit, _ = services.job_create(
        customer=job.customer, title="Follow-up visit", site_address=job.customer.address,
        lines=[{"description": "Call-out fee", "quantity": Decimal("1"),
                "unit_price": Decimal("165"), "item_code": "CALLOUT"}],
    )  # fmt: skip
    org = next(iter(hub.xero.store.organisations.values()))
    contact_id = invoice["Contact"]["ContactID"]
    form = {
        "Name": contact(hub, contact_id)["Name"],
        "TaxNumber": "",
        "AddressLine1": "9 New Rd",
        "City": "Ultimo",
        "Region": "NSW",
        "PostalCode": "2007",
    }
    console.act(hub.xero.store, [org.tenant_id, "contacts", contact_id], form)
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="active_job_affected").first(),
        what="the item for operations",
    )
    assert next_visit.number in item.reason
