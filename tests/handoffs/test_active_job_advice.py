"""A customer's detail changed while their job is active: the item says what changed, from
what, and advice that fits that field (a new name moves nothing; a new address may move
the work), never the same words for every change."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from connectors.base import Address, BusinessEvent
from connectors.operations.client import JobRegister
from operations import services
from operations.models import Customer
from ownership.models import FieldRule
from ownership.services import field_rules_defaults_load
from review_queue.models import ReviewItem
from tests.conftest import vendor_memory_forget
from tests.helpers import demo_hubspot

pytestmark = pytest.mark.django_db


def seeded(settings, tmp_path) -> None:
    """The demo's business, with the default rules (a transactional test before this one
    may have emptied the table the migrations filled), and none of the vendor calls made
    before counted against the hub's limits."""
    settings.VAR_DIR = tmp_path
    field_rules_defaults_load()
    call_command("seed_demo", stdout=io.StringIO())
    # The seed's HubSpot calls count against the hub's shared limit (earlier tests' are
    # forgotten before each test): forget them, so no run here waits for the next 10 s.
    vendor_memory_forget()


@pytest.fixture
def busy_customer():
    """A customer with a job under way at their billing address."""
    customer = services.customer_create(
        name="Harbour View Cafe",
        email="sophie@harbourviewcafe.com.au",
        phone="02 9555 0101",
        street="12 Wharf St",
        city="Balmain",
        region="NSW",
        postcode="2041",
        tax_number="51 824 753 556",
        contact_name="Sophie Walsh",
    )
    job, _ = services.job_create(
        customer=customer,
        title="Kitchen rewire",
        amount=Decimal("110.00"),
        site_address=customer.address,
        lines=[{"description": "Labour", "quantity": Decimal("1"), "unit_price": Decimal("110")}],
    )
    services.job_transition(job=job, to="in_progress")
    return customer, job


def told(customer: Customer, **values):
    """What the register says its active jobs need to hear when the engine writes these."""
    (notices,) = JobRegister().values_write("customer", {str(customer.pk): values}).values()
    return {n.details["field"]: n for n in notices}


def test_a_new_name_says_nothing_moves(busy_customer):
    customer, job = busy_customer
    notice = told(customer, billing_name="Harbour View Cafe & Bar")["billing_name"]
    assert notice.title == "Customer renamed while a job is active"
    assert "'Harbour View Cafe & Bar' (it was 'Harbour View Cafe')" in notice.reason
    assert "nothing moves" in notice.fix
    assert "whether the work moves" not in notice.fix


def test_a_new_address_asks_whether_the_work_moves_when_the_job_is_at_the_old_one(
    busy_customer,
):
    customer, job = busy_customer
    moved = Address("9 New Rd", "Ultimo", "NSW", "2007")
    notice = told(customer, billing_address=moved)["billing_address"]
    assert notice.title == "Customer's billing address changed while a job is active"
    assert "(it was '12 Wharf St, Balmain, NSW, 2041')" in notice.reason
    assert f"Job {job.number} is at the old address, so the site may have moved" in notice.fix


def test_a_new_billing_address_moves_nothing_when_the_work_is_elsewhere(busy_customer):
    customer, job = busy_customer
    services.job_site_update(
        job=job, site_address="3 Other St, Newtown", site_contact="", site_notes=""
    )
    notice = told(customer, billing_address=Address("9 New Rd", "Ultimo"))["billing_address"]
    assert "No active job is at the old address" in notice.fix
    assert "nothing to move" in notice.fix


@pytest.mark.parametrize(
    ("field", "value", "title", "advice"),
    [
        ("phone", "02 9555 0199", "phone number", "call the new number"),
        ("email", "accounts@harbourview.example", "email address", "use the new address"),
        ("contact_name", "Priya Nair", "contact person", "asks for the right person"),
        ("tax_number", "11 111 111 111", "ABN", "A new ABN can mean a new business"),
    ],
)
def test_each_detail_has_its_own_advice(busy_customer, field, value, title, advice):
    customer, _ = busy_customer
    notice = told(customer, **{field: value})[field]
    assert notice.title == f"Customer's {title} changed while a job is active"
    assert advice in notice.fix


def test_no_two_details_share_their_advice(busy_customer):
    customer, _ = busy_customer
    notices = told(
        customer,
        billing_name="New name",
        billing_address=Address("9 New Rd"),
        phone="02 1111 1111",
        email="new@example.com",
        contact_name="Someone Else",
        tax_number="11 111 111 111",
    )
    assert len(notices) == 6
    assert len({n.fix for n in notices.values()}) == 6


def test_renaming_a_hubspot_company_opens_a_rename_item_with_nothing_to_move(settings, tmp_path):
    """The issue's case: the CRM owns the billing name here, the company is renamed in
    HubSpot, the hub renames the register's customer and tells the active job's people."""
    from handoffs.management.commands.seed_demo import Command

    seeded(settings, tmp_path)
    FieldRule.objects.filter(record_type="customer", field="billing_name").update(
        owner="hubspot", carriers={"operations": "name"}
    )
    with demo_hubspot(settings, tmp_path) as sandbox:
        store = sandbox.store
        deal = next(
            d for d in store.list("deals") if d["properties"]["dealname"].startswith("Harbour")
        )
        cafe = store.associated_ids("deals", deal["id"], "companies")[0]
        store.update("companies", cafe, {"name": "Harbour View Cafe & Bar"}, notify=False)
        Command()._run(
            "shared_fields", BusinessEvent("customer.changed", "hubspot", cafe, {"event": "t"})
        )
    assert Customer.objects.filter(name="Harbour View Cafe & Bar").exists()
    item = ReviewItem.objects.get(kind="active_job_affected", details__field="billing_name")
    assert item.title == "Customer renamed while a job is active"
    assert "nothing moves" in item.action and "whether the work moves" not in item.action
    assert not ReviewItem.objects.filter(
        kind="active_job_affected", details__field="billing_address", status="open"
    ).exists()


def test_putting_the_owners_value_back_tells_the_active_job_nothing(settings, tmp_path):
    """An email typed into the register (HubSpot owns it) is a disagreement; keeping
    HubSpot's value writes it back, and the customer's details did not change."""
    from django.contrib.auth import get_user_model

    from handoffs.inbox import inbox_drain
    from review_queue.services import review_item_resolve

    seeded(settings, tmp_path)
    with demo_hubspot(settings, tmp_path):
        cafe = Customer.objects.get(name="Harbour View Cafe")
        email = cafe.email
        services.customer_fields_set(customer=cafe, changes={"email": "typo@example.com"})
        inbox_drain()
        item = ReviewItem.objects.get(kind="disagreement", details__field="email")
        admin = get_user_model().objects.get(username="admin")
        review_item_resolve(item=item, by=admin, action="keep_owner")
        inbox_drain()
    assert Customer.objects.get(pk=cafe.pk).email == email
    assert not ReviewItem.objects.filter(
        kind="active_job_affected", details__field="email"
    ).exists()
