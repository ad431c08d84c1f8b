"""The custom HubSpot properties the hub writes: made once, in the hub's own group, and
the ones that exist with another type named."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from hubspot.crm.properties import PropertyCreate

from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.crm import COMPANY, DEAL
from connectors.hubspot.properties import (
    CUSTOM_PROPERTIES,
    GROUP,
    JOB_STATUSES,
    PAYMENT_STATUSES,
    properties_ensure,
)
from connectors.hubspot.sdk import sdk
from connectors.sandbox.hubspot.schema import STANDARD
from operations.models import Job
from tests.connectors.hubspot.conftest import said

WANTED = {p.key for p in CUSTOM_PROPERTIES}
CREATES = "POST /crm/v3/properties/{kind}"


def test_the_list_holds_every_property_the_hub_writes_that_hubspot_lacks():
    standard = {kind: {row[0] for row in STANDARD[kind][2]} for kind in STANDARD}
    written = {f"deals.{p}" for names in DEAL.values() for p in names.values()} | {
        f"companies.{p}" for p in COMPANY
    }
    custom = {
        key for key in written if key.partition(".")[2] not in standard[key.partition(".")[0]]
    }
    assert custom == WANTED - {"deals.site_address", "line_items.tax_treatment"}  # read only
    # The choices are exactly the values the hub writes.
    assert JOB_STATUSES == tuple(Job.Status.values)
    assert PAYMENT_STATUSES == tuple(Job.PaymentStatus.values)


def test_the_first_run_makes_the_group_and_every_property_the_second_makes_nothing(
    hubspot_account,
):
    store = hubspot_account.store
    report = properties_ensure(HubSpotClient())
    assert set(report.created) == WANTED
    assert report.groups_created == ["deals", "companies", "line_items"]
    assert not report.mismatched and not report.present
    status = store.properties["deals"]["job_status"]
    assert (status["type"], status["fieldType"], status["groupName"]) == (
        "enumeration",
        "select",
        GROUP,
    )
    assert [o["value"] for o in status["options"]] == list(JOB_STATUSES)
    assert store.properties["deals"]["amount_due"]["type"] == "number"
    assert store.properties["deals"]["last_payment_date"]["type"] == "date"
    assert store.properties["companies"]["abn"]["groupName"] == GROUP
    creates = store.requests[CREATES.format(kind="deals")]
    again = properties_ensure(HubSpotClient())
    assert (again.created, again.groups_created, set(again.present)) == ([], [], WANTED)
    assert store.requests[CREATES.format(kind="deals")] == creates
    assert store.requests["POST /crm/v3/properties/deals/groups"] == 1


def job_number_as_a_number() -> None:
    """Someone made job_number in HubSpot before the hub did, as a number."""
    sdk(access_token=settings.HUBSPOT_ACCESS_TOKEN).crm.properties.core_api.create(
        "deals",
        PropertyCreate(
            name="job_number",
            label="Job #",
            type="number",
            field_type="number",
            group_name="dealinformation",
        ),
    )


def test_a_property_that_exists_with_another_type_is_named_and_left_alone(hubspot_account):
    job_number_as_a_number()
    report = properties_ensure(HubSpotClient())
    assert report.mismatched == [
        "HubSpot's deals.job_number is number (number), but the hub writes string (text) there: "
        "change the property's field type in HubSpot (Settings → Properties) so the hub's "
        "values fit."
    ]
    assert "deals.job_number" not in report.created and "deals.job_status" in report.created
    assert hubspot_account.store.properties["deals"]["job_number"]["type"] == "number"


def test_a_choice_the_hub_writes_now_is_added_to_a_property_made_before_it(hubspot_account):
    properties_ensure(HubSpotClient())
    status = hubspot_account.store.properties["deals"]["payment_status"]
    status["options"] = [o for o in status["options"] if o["value"] != "credited"]
    status["options"][0]["label"] = "Draft (not sent)"  # an admin's own label stays
    report = properties_ensure(HubSpotClient())
    assert report.options_added == ["deals.payment_status: credited"]
    assert "Added the choices deals.payment_status: credited." in report.summary()
    options = hubspot_account.store.properties["deals"]["payment_status"]["options"]
    assert sorted(o["value"] for o in options) == sorted(PAYMENT_STATUSES)
    assert (options[0]["label"], options[-1]["value"]) == ("Draft (not sent)", "credited")
    assert properties_ensure(HubSpotClient()).options_added == []


def test_the_command_says_what_it_made_and_fails_on_a_wrong_type(hubspot_account, capsys):
    call_command("hubspot_properties")
    assert "Created deals.job_number, deals.job_status" in capsys.readouterr().out
    call_command("hubspot_properties")
    assert capsys.readouterr().out.startswith(
        "Created no property. Already there: deals.job_number"
    )
    hubspot_account.store.reset("demo")
    job_number_as_a_number()
    with pytest.raises(CommandError, match="1 property"):
        call_command("hubspot_properties")
    assert "HubSpot's deals.job_number is number (number)" in capsys.readouterr().err


def test_the_button_makes_them_and_names_a_wrong_type(hubspot_account, admin):
    job_number_as_a_number()
    page = admin.post("/settings/hubspot/properties/", follow=True)
    made, wrong = said(page)
    assert (
        made.startswith("Created deals.job_status,") and "Already there: deals.job_number." in made
    )
    assert wrong.startswith("HubSpot's deals.job_number is number (number), but the hub writes")
    assert "abn" in hubspot_account.store.properties["companies"]


def test_the_button_says_so_when_hubspot_cannot_be_reached(hubspot_account, admin, settings):
    settings.HUBSPOT_API_BASE_URL = "http://127.0.0.1:9"
    page = admin.post("/settings/hubspot/properties/", follow=True)
    assert said(page)[0].startswith(
        "HubSpot could not be reached while fetching the deals properties."
    )


def test_a_lost_answer_to_a_create_is_found_made_on_the_next_run_not_made_twice(
    hubspot_account, admin
):
    store = hubspot_account.store
    # HubSpot makes the deals' group but the answer is lost (HTTP 502 after the work).
    store.set_fault(
        status=502, count=1, method="POST", path_prefix="/crm/v3/properties/deals", after=True
    )
    page = admin.post("/settings/hubspot/properties/", follow=True)
    assert said(page) == [
        "HubSpot failed while the hub fetched a deals property group (HTTP 502). "
        "Press the button again: it makes only what is missing."
    ]
    assert GROUP in store.groups["deals"] and "job_number" not in store.properties["deals"]
    report = properties_ensure(HubSpotClient())
    assert report.groups_created == ["companies", "line_items"] and set(report.created) == WANTED
    assert store.requests["POST /crm/v3/properties/deals/groups"] == 1
