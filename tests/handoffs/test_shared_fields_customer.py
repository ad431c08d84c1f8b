"""A customer's fields, kept to their owners across HubSpot, Xero and the register by the engine
(through a real worker and both sandboxes): Xero owns the billing name, address and ABN; the
CRM owns the contact person, email and phone. A customer is linked when first seen."""

from connectors.sandbox.xero import console
from operations.models import Customer
from ownership.models import FieldRule, Link
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, finished_job, invoiced_job, xero_invoices


def company_of(hub, job) -> str:
    return hub.sandbox.store.associated_ids("deals", job.origin_ref, "companies")[0]


def company(hub, company_id: str) -> dict:
    return hub.sandbox.store.get("companies", company_id)["properties"]


def organisation(hub):
    return next(iter(hub.xero.store.organisations.values()))


def contact(hub, contact_id: str) -> dict:
    return organisation(hub).contacts[contact_id]


def bookkeeper_edits(hub, contact_id: str, **form) -> None:
    """Edit a contact in the Xero console, as a bookkeeper would (Xero sends its webhook)."""
    console.act(hub.xero.store, [organisation(hub).tenant_id, "contacts", contact_id], form)


def test_an_address_edited_in_the_crm_is_flagged_and_keeping_xeros_restores_it(
    hub, django_user_model, office_staff
):
    job, invoice = invoiced_job(hub, django_user_model)
    xero_street = contact(hub, invoice["Contact"]["ContactID"])["Addresses"][0]["AddressLine1"]
    company_id = company_of(hub, job)
    assert company(hub, company_id)["address"] == xero_street
    hub.sandbox.store.update("companies", company_id, {"address": "1 Wrong Way"})
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="disagreement", system="hubspot").first(),
        what="the disagreement",
    )
    d = item.details
    assert (d["owner_label"], d["field"]) == ("Xero", "billing_address")
    assert d["owner_shown"].startswith(xero_street)
    assert d["others"][0]["shown"].startswith("1 Wrong Way")
    preview = review_item_preview(item=item, action="keep_owner")
    assert f"Write Xero's billing address '{xero_street}" in preview
    review_item_resolve(item=item, by=office_staff, action="keep_owner")
    wait_for(lambda: company(hub, company_id)["address"] == xero_street, what="Xero's address")
    hub.sandbox.sender.wait_idle()
    # The hub's own write comes back as a webhook: an echo, never a new disagreement.
    assert not ReviewItem.objects.filter(kind="disagreement", status="open").exists()


def test_an_abn_edited_in_the_crm_is_restored_from_xero_by_rule_spacing_and_all(
    hub, django_user_model
):
    assert FieldRule.objects.get(record_type="customer", field="tax_number").on_disagreement == (
        "restore"
    )
    job, invoice = invoiced_job(hub, django_user_model)
    company_id = company_of(hub, job)
    spaced = company(hub, company_id)["abn"]
    assert " " in spaced  # as sales typed it, e.g. "51 824 753 556"
    # The contact the hub made in Xero (the owner) keeps the spacing, and so does the register.
    assert contact(hub, invoice["Contact"]["ContactID"])["TaxNumber"] == spaced
    assert job.customer.tax_number == spaced
    hub.sandbox.store.update("companies", company_id, {"abn": "11 111 111 111"})
    wait_for(lambda: company(hub, company_id)["abn"] == spaced, what="Xero's ABN back in HubSpot")
    assert not ReviewItem.objects.filter(kind="disagreement").exists()


def test_a_same_named_xero_contact_is_a_possible_duplicate_and_linking_it_sends_the_invoice(
    hub, django_user_model, office_staff
):
    organisation(hub).contacts["existing"] = {
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
        {"id": "existing", "name": "Greenway Childcare Centre", "why": "the same name"}
    ]
    assert xero_invoices(hub) == [] and len(organisation(hub).contacts) == 2
    review_item_resolve(
        item=item, by=office_staff, action="link_existing", values={"customer": "existing"}
    )
    wait_for(lambda: xero_invoices(hub), what="the invoice")
    assert xero_invoices(hub)[0]["Contact"]["ContactID"] == "existing"
    assert len(organisation(hub).contacts) == 2
    link = Link.objects.get(system="xero", external_id="existing")
    assert link.reason == "a person said they are the same customer"


def test_a_billing_address_changed_in_xero_reaches_the_crm_and_the_register(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    contact_id = invoice["Contact"]["ContactID"]
    bookkeeper_edits(
        hub, contact_id, AddressLine1="9 New Rd", City="Ultimo", Region="NSW", PostalCode="2007"
    )
    company_id = company_of(hub, job)
    wait_for(
        lambda: company(hub, company_id)["address"] == "9 New Rd",
        what="Xero's address on the HubSpot company",
    )
    assert (company(hub, company_id)["city"], company(hub, company_id)["zip"]) == (
        "Ultimo",
        "2007",
    )
    wait_for(
        lambda: Customer.objects.get(pk=job.customer_id).address.startswith(
            "9 New Rd, Ultimo, NSW, 2007"
        ),
        what="the register's customer",
    )
    hub.sandbox.sender.wait_idle()
    assert not ReviewItem.objects.filter(kind="disagreement").exists()


def test_a_xero_address_change_for_a_customer_with_an_active_job_goes_to_operations(
    hub, django_user_model
):
    from decimal import Decimal

    from operations import services

    job, invoice = invoiced_job(hub, django_user_model)
    next_visit, _ = services.job_create(
        customer=job.customer,
        title="Follow-up visit",
        site_address=job.customer.address,
        lines=[
            {
                "description": "Call-out fee",
                "quantity": Decimal("1"),
                "unit_price": Decimal("165"),
                "item_code": "CALLOUT",
            }
        ],
    )
    bookkeeper_edits(hub, invoice["Contact"]["ContactID"], AddressLine1="9 New Rd", City="Ultimo")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="active_job_affected").first(),
        what="the item for operations",
    )
    assert next_visit.number in item.reason and "9 New Rd" in item.reason
    assert item.title == "Customer's billing address changed while a job is active"
    assert f"Job {next_visit.number} is at the old address, so the site may have moved" in (
        item.action
    )
    assert Customer.objects.get(pk=job.customer_id).street == "9 New Rd"  # carried, and told
    assert services.jobs_active(customer=job.customer)[0].site_address == next_visit.site_address


def test_a_phone_changed_in_xero_is_the_crms_to_decide(hub, django_user_model, office_staff):
    job, invoice = invoiced_job(hub, django_user_model)
    contact_id, company_id = invoice["Contact"]["ContactID"], company_of(hub, job)
    crm_phone = company(hub, company_id)["phone"]
    bookkeeper_edits(hub, contact_id, Phone="02 8888 0000")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="disagreement", system="xero").first(),
        what="the phone's disagreement",
    )
    assert (item.details["owner_label"], item.details["owner_shown"]) == ("HubSpot", crm_phone)
    assert item.details["others"][0]["shown"] == "02 8888 0000"
    review_item_resolve(item=item, by=office_staff, action="keep_owner")
    phone = lambda: contact(hub, contact_id)["Phones"][0]["PhoneNumber"]  # noqa: E731
    wait_for(lambda: phone() == crm_phone, what="HubSpot's phone back in Xero")
    # With the rule set to restore, the hub puts HubSpot's phone back without asking.
    FieldRule.objects.filter(record_type="customer", field="phone").update(
        on_disagreement="restore"
    )
    bookkeeper_edits(hub, contact_id, Phone="02 7777 0000")
    wait_for(lambda: phone() == crm_phone, what="HubSpot's phone restored")
    assert Customer.objects.get(pk=job.customer_id).phone == crm_phone


def test_a_phone_changed_in_the_crm_reaches_xero_and_the_register(hub, django_user_model):
    job, invoice = invoiced_job(hub, django_user_model)
    hub.sandbox.store.update("companies", company_of(hub, job), {"phone": "0412 345 678"})
    phones = lambda: contact(hub, invoice["Contact"]["ContactID"])["Phones"]  # noqa: E731
    wait_for(lambda: phones()[0]["PhoneNumber"] == "0412 345 678", what="the phone in Xero")
    wait_for(
        lambda: Customer.objects.get(pk=job.customer_id).phone == "0412 345 678",
        what="the phone in the register",
    )
    assert not ReviewItem.objects.filter(kind="disagreement").exists()


def test_a_company_made_in_the_crm_is_linked_to_its_xero_contact_at_first_sight(hub):
    connect_xero(hub)
    org = organisation(hub)
    org.contacts["known"] = {
        "ContactID": "known",
        "Name": "Parramatta Dental",
        "TaxNumber": "12 345 678 901",
        "ContactStatus": "ACTIVE",
        "UpdatedDateUTC": "/Date(0+0000)/",
    }
    made = hub.sandbox.store.create(
        "companies",
        {"name": "Parramatta Dental Group", "abn": "12345678901"},
        change_source="CRM_UI",
    )
    link = wait_for(
        lambda: Link.objects.filter(system="xero", external_id="known").first(),
        what="the link to the Xero contact",
    )
    assert link.reason == "the same ABN"
    assert set(link.record.links.values_list("system", "external_id")) == {
        ("xero", "known"),
        ("hubspot", made["id"]),
    }
    # A second company with the same ABN is a possible duplicate, never a silent link.
    hub.sandbox.store.create(
        "companies",
        {"name": "Parramatta Dental (old)", "abn": "12345678901"},
        change_source="CRM_UI",
    )
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="possible_duplicate").first(),
        what="the second company's item",
    )
    assert item.details["candidates"][0]["why"] == "the same ABN"
    assert Link.objects.filter(system="xero", external_id="known").count() == 1
