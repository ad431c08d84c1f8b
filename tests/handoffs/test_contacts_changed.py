"""Contacts that changed under the hub (through a real worker and both sandboxes): a Xero
contact merged or archived, a HubSpot company merged. The hub follows a merged customer to
its survivor once, with the move in the customer's trail; when it cannot (the survivor is
another customer's, or the contact was archived) one item asks, and nothing is invoiced to
a wrong contact."""

from connectors.sandbox.xero import books, console
from dashboard.trail import record_trail
from handoffs.flows.job_done_to_invoice import invoicing_run
from handoffs.models import HandoffRun
from handoffs.reconcile import reconcile
from operations import services
from operations.models import Customer, Job
from ownership.models import Link, Record
from ownership.services import link_add, record_for_link
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.conftest import hub_settled
from tests.helpers import wait_for
from tests.xero_helpers import finished_job, invoiced_job, won_job, xero_invoices, xero_org

MOVED = ("customer_merged", "customer_archived")


def new_contact(hub, name: str) -> str:
    """A contact the bookkeeper adds in Xero."""
    _, body = books.save_many(hub.xero.store, xero_org(hub), "Contacts", [{"Name": name}], False)
    return body["Contacts"][0]["ContactID"]


def bookkeeper(hub, contact_id: str, verb: str, **form) -> None:
    console.act(hub.xero.store, [xero_org(hub).tenant_id, "contacts", contact_id, verb], form)


def xero_link(record: Record) -> str:
    return Link.objects.get(record=record, system="xero").external_id


def another_customer(survivor: str) -> Record:
    """A customer the hub links to the survivor in Xero and in the register."""
    customer = Customer.objects.create(name="Greenway Holdings")
    record = record_for_link(
        type="customer", system="xero", external_id=survivor, label="Greenway Holdings"
    )
    link_add(record=record, system="operations", external_id=str(customer.pk), reason="test")
    return record


def settled(hub) -> None:
    """Every event taken and every run done (no webhook left to send, no run pending)."""
    wait_for(
        lambda: hub_settled(hub)
        and not HandoffRun.objects.exclude(state__in=["done", "skipped"]).exists(),
        what="the hub to settle",
    )


def kestrel_invoiced(hub, django_user_model):
    """Kestrel's first job invoiced (its Xero contact made by the hub); its second is next."""
    with hub.xero.store.lock:  # the seeded organisation sells no LED panels yet
        xero_org(hub).items["LED-600"] = {
            "ItemID": "led-600",
            "Code": "LED-600",
            "Name": "LED panel light 600x600",
            "SalesDetails": {"UnitPrice": 145.0, "AccountCode": "200", "TaxType": "OUTPUT"},
        }
    return invoiced_job(hub, django_user_model, "14 Church St")


def test_a_contact_merged_in_xero_is_followed_to_the_survivor_once(hub, django_user_model):
    _, invoice = invoiced_job(hub, django_user_model)
    old = invoice["Contact"]["ContactID"]
    record = Link.objects.get(system="xero", external_id=old).record
    survivor = new_contact(hub, "Sunrise Early Learning")
    bookkeeper(hub, old, "merge", into=survivor)
    wait_for(lambda: xero_link(record) == survivor, what="the link to follow the merge")
    # The survivor's own webhook made no customer of its own: it is this one.
    assert list(Record.objects.filter(links__system="xero", links__external_id=survivor)) == [
        record
    ]
    # Again (the nightly check, a repeated webhook): nothing moves twice, nothing opens.
    run = reconcile()
    bookkeeper(hub, survivor, "", Name="Sunrise Early Learning")
    settled(hub)
    assert run.missed == 0
    link = Link.objects.get(record=record, system="xero")
    moves = [v for v in link.history.all() if v.history_type == "~"]
    assert [m.external_id for m in moves] == [survivor]
    assert not ReviewItem.objects.filter(kind__in=MOVED).exists()
    titles = [e.title for e in record_trail(system="xero", type="customer", ref=old)]
    assert f"Link moved in Xero: {old} → {survivor}" in titles


def test_a_contact_merged_into_another_customers_opens_one_item(
    hub, django_user_model, office_staff
):
    _, invoice = invoiced_job(hub, django_user_model)
    old = invoice["Contact"]["ContactID"]
    record = Link.objects.get(system="xero", external_id=old).record
    survivor = new_contact(hub, "Greenway Holdings")
    theirs = another_customer(survivor)
    bookkeeper(hub, old, "merge", into=survivor)
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="customer_merged").first(), what="the item"
    )
    run = reconcile()
    assert run.missed == 0  # the item says it; no "no longer has" item besides
    assert ReviewItem.objects.filter(kind__in=MOVED).count() == 1
    assert xero_link(record) == old and xero_link(theirs) == survivor
    assert record.label in item.title and theirs.label in item.title
    preview = review_item_preview(item=item, action="merge_customers")
    assert f"{record.label} and {theirs.label} become one customer" in preview
    preview = review_item_preview(item=item, action="merged_is_mine")
    assert f"becomes {record.label}'s" in preview
    review_item_resolve(item=item, by=office_staff, action="merged_is_mine")
    assert xero_link(record) == survivor
    assert not Link.objects.filter(record=theirs, system="xero").exists()
    trail = record_trail(system="xero", type="customer", ref=survivor)
    moved = next(e for e in trail if e.title == f"Link moved in Xero: {old} → {survivor}")
    assert moved.detail.startswith(f"by {office_staff.get_username()}")


def test_a_company_merged_in_hubspot_is_followed_and_the_survivors_other_owner_asked(
    hub, django_user_model
):
    job, _ = invoiced_job(hub, django_user_model)
    (merged,) = hub.sandbox.store.associated_ids("deals", job.origin_ref, "companies")
    record = Link.objects.get(system="hubspot", external_id=merged).record
    survivor = next(
        c["id"] for c in hub.sandbox.store.list("companies") if "Tran" in c["properties"]["name"]
    )
    hub.sandbox.store.merge("companies", survivor, merged)
    wait_for(
        lambda: Link.objects.get(record=record, system="hubspot").external_id == survivor,
        what="the link to follow the merge",
    )
    assert not ReviewItem.objects.filter(kind__in=MOVED).exists()


def test_another_contact_for_an_archived_one_takes_the_next_invoice_once(
    hub, django_user_model, office_staff
):
    _, invoice = kestrel_invoiced(hub, django_user_model)
    old = invoice["Contact"]["ContactID"]  # the contact the hub made for Kestrel
    record = Link.objects.get(system="xero", external_id=old).record
    bookkeeper(hub, old, "archive")
    job = finished_job(hub, django_user_model, "80 George St")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="customer_archived", status="open").first(),
        what="the archived item",
    )
    wait_for(  # the item may come first: the run starts once the job's completion arrives
        lambda: getattr(invoicing_run(job.number), "state", None) == "needs_review",
        what="the job to wait",
    )
    assert invoicing_run(job.number).review_item_id == item.pk
    assert len(xero_invoices(hub)) == 1
    preview = review_item_preview(item=item, action="link_another")
    assert f"link to archived contact {old} ends" in preview
    assert "None: the hub makes a new one, 'Kestrel Property Group', in Xero." in preview
    review_item_resolve(item=item, by=office_staff, action="link_another")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    settled(hub)
    new = xero_link(record)
    (second,) = [i for i in xero_invoices(hub) if i["Reference"] == job.number]
    assert len(xero_invoices(hub)) == 2 and second["Contact"]["ContactID"] == new != old
    contacts = xero_org(hub).contacts
    named = [c for c in contacts.values() if c["Name"] == "Kestrel Property Group"]
    assert sorted(c["ContactStatus"] for c in named) == ["ACTIVE", "ARCHIVED"]
    assert contacts[new]["ContactNumber"] != contacts[old]["ContactNumber"]
    assert not ReviewItem.objects.filter(status="open").exists()
    trail = record_trail(system="xero", type="customer", ref=new)
    ended = next(e for e in trail if e.title == f"Link to Xero's {old} ended")
    assert ended.detail.startswith(f"by {office_staff.get_username()}")
    assert f"Linked to Xero's {new}" in [e.title for e in trail]


def test_a_merge_no_webhook_told_of_is_followed_when_xero_refuses_the_invoice(
    hub, django_user_model
):
    """The batch reads no contact the hub read lately; Xero's refusal makes it look."""
    _, invoice = kestrel_invoiced(hub, django_user_model)
    old = invoice["Contact"]["ContactID"]
    record = Link.objects.get(system="xero", external_id=old).record
    survivor = new_contact(hub, "Kestrel Group Holdings")
    job = won_job(hub, "80 George St")
    # Started first: the runs a start begins read the customer, and would find the merge.
    services.job_transition(job=job, to="in_progress")
    settled(hub)
    org = xero_org(hub)
    with hub.xero.store.lock:  # merged, and the webhook saying so lost (or not here yet)
        org.contacts[old].update(ContactStatus="ARCHIVED", MergedToContactID=survivor)
    services.job_complete(job=job, by=django_user_model.objects.get(username="tech"), note="Done.")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (second,) = [i for i in xero_invoices(hub) if i["Reference"] == job.number]
    assert second["Contact"]["ContactID"] == survivor == xero_link(record)
    # The first job's invoice, the one Xero refused, the one to the survivor: had the batch
    # read the contact it read an hour ago, the refused one would not have been sent.
    assert org.requests["PUT /Invoices"] == 3 and len(xero_invoices(hub)) == 2
    assert not ReviewItem.objects.filter(status="open").exists()
