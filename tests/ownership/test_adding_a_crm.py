"""A second CRM is one class speaking the CRM protocol plus a registration: plugged in, the
won-deal handoff and the ownership engine's disagreements run through it unchanged."""

from decimal import Decimal

import pytest

from connectors.base import VendorEvent
from handoffs.inbox import _events_store, inbox_drain
from operations.models import Job
from ownership.models import FieldRule, Link
from ownership.services import field_rules_defaults_load
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.ownership.minicrm import MiniCrm, mini_business

pytestmark = pytest.mark.django_db
counter = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def mini_crm(settings):
    """The hub with Mini CRM as its CRM, and the default rules naming it."""
    settings.HUB_CONNECTORS = settings.HUB_CONNECTORS | {"crm": "tests.ownership.minicrm.MiniCrm"}
    FieldRule.objects.all().delete()
    field_rules_defaults_load()
    mini_business()


def tell(kind: str, object_id: str, **data) -> None:
    """Mini CRM tells the hub something changed (as its webhook endpoint would store it)."""
    payload = {"type": kind, "id": object_id, "event": str(next(counter))} | data
    event = VendorEvent(f"mini-{payload['event']}", kind, object_id, payload)
    _events_store(source="minicrm", events=[event], delivery=None)
    inbox_drain()


def test_the_default_rules_name_the_crm_plugged_in():
    rule = FieldRule.objects.get(record_type="job", field="status")
    assert (rule.owner, rule.carriers) == ("operations", {"minicrm": "job_status"})
    assert FieldRule.objects.get(record_type="customer", field="phone").owner == "minicrm"


def test_a_won_deal_in_the_new_crm_becomes_one_job_and_the_deal_shows_it():
    MiniCrm.deals["d1"]["deal"]["sales_stage"] = "won"
    tell("deal.stage_changed", "d1", stage="won")
    tell("deal.stage_changed", "d1", stage="won")  # told twice: still one job
    job = Job.objects.get(origin_system="minicrm", origin_ref="d1")
    assert (job.title, job.amount, job.customer.name) == (
        "Kookaburra Cafe - lighting",
        Decimal("220.00"),
        "Kookaburra Cafe",
    )
    assert Job.objects.count() == 1
    shown = MiniCrm.deals["d1"]["job"]
    assert (shown["number"], shown["status"]) == (job.number, "scheduled")
    assert Link.objects.filter(system="minicrm", external_id="d1").count() == 2  # deal, job


def test_a_disagreement_in_the_new_crm_is_flagged_and_the_owners_value_kept():
    MiniCrm.deals["d1"]["deal"]["sales_stage"] = "won"
    tell("deal.stage_changed", "d1", stage="won")
    job = Job.objects.get(origin_ref="d1")
    FieldRule.objects.filter(record_type="job", field="status").update(on_disagreement="flag")
    MiniCrm.deals["d1"]["job"]["status"] = "done"
    tell("deal.changed", "d1")
    item = ReviewItem.objects.get(kind="disagreement", status="open")
    assert item.title == "Mini CRM disagrees about the job status"
    assert [o["shown"] for o in item.details["others"]] == ["Done"]
    review_item_resolve(item=item, by=None, action="keep_owner")
    inbox_drain()
    assert MiniCrm.deals["d1"]["job"]["status"] == job.status == "scheduled"
    # The rule set to restore: the register's value goes back without asking.
    FieldRule.objects.filter(record_type="job", field="status").update(on_disagreement="restore")
    MiniCrm.deals["d1"]["job"]["status"] = "paid"
    tell("deal.changed", "d1")
    assert MiniCrm.deals["d1"]["job"]["status"] == "scheduled"
    assert Job.objects.get(pk=job.pk).status == "scheduled"
