"""The HubSpot sandbox speaks HubSpot: its answers deserialize through the official SDK."""

import json
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.companies import (
    Filter,
    FilterGroup,
    PublicMergeInput,
    PublicObjectSearchRequest,
)
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.objects import BatchReadInputSimplePublicObjectId, SimplePublicObjectId
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate
from hubspot.oauth import ApiException as OauthApiException
from urllib3.util.retry import Retry

from connectors.hubspot.webhooks import signature_check
from connectors.sandbox.hubspot.server import start_in_thread
from connectors.sandbox.hubspot.webhooks import sign_v3
from tests.helpers import wait_for

TOKEN, SECRET = "sandbox-test-token", "sandbox-test-secret"


class Receiver(BaseHTTPRequestHandler):
    """Records each POST; answers 500 to the first `fail_first` of them."""

    received: list[tuple[dict, bytes]] = []
    fail_first = 0

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        failing = len(type(self).received) <= type(self).fail_first
        self.send_response(500 if failing else 200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def sandbox(receiver):
    Receiver.received, Receiver.fail_first = [], 0
    server = start_in_thread(access_token=TOKEN, client_secret=SECRET, webhook_url=receiver)
    server.sender.first_backoff = 0.05
    yield server
    server.stop()


def sdk(sandbox, token: str = TOKEN) -> HubSpot:
    # No urllib3 retries, as in the hub: a 429 must reach the caller.
    return HubSpot(access_token=token, host=sandbox.url, retry=Retry(total=0))


def a_deal(sandbox, name_part: str = "kitchen rewire") -> dict:
    return next(d for d in sandbox.store.list("deals") if name_part in d["properties"]["dealname"])


def test_deals_companies_and_line_items_deserialize_through_the_sdk(sandbox):
    api, deal = sdk(sandbox), a_deal(sandbox)
    read = api.crm.deals.basic_api.get_by_id(
        deal["id"], properties=["dealname", "amount"], associations=["companies"]
    )
    assert read.properties["dealname"] == "Harbour View Cafe - kitchen rewire"
    assert read.properties["amount"] == "4950.00"
    assert read.associations["companies"].results[0].type == "deal_to_company"
    page = api.crm.companies.basic_api.get_page(limit=4, properties=["name"])
    assert len(page.results) == 4 and page.paging.next.after == "4"
    ids = sandbox.store.associated_ids("deals", deal["id"], "line_items")
    batch = api.crm.line_items.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in ids],
            properties=["hs_sku", "quantity"],
            properties_with_history=[],
        )
    )
    assert sorted(row.properties["hs_sku"] for row in batch.results) == [
        "CALLOUT",
        "LABOUR-HR",
        "SWB-UPG",
    ]


def test_a_batch_read_with_a_missing_id_answers_207_with_the_error(sandbox):
    batch = sdk(sandbox).crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[
                SimplePublicObjectId(id=sandbox.store.list("contacts")[0]["id"]),
                SimplePublicObjectId(id="999999"),
            ],
            properties=["email"],
            properties_with_history=[],
        )
    )
    assert len(batch.results) == 1
    assert batch.errors[0].category == "OBJECT_NOT_FOUND"
    assert batch.errors[0].context == {"ids": ["999999"]}


def test_pipelines_carry_the_won_metadata(sandbox):
    pipelines = sdk(sandbox).crm.pipelines.pipelines_api.get_all(object_type="deals").results
    stages = {s.id: s.metadata for p in pipelines for s in p.stages}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["2001003"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"]["probability"] == "0.0"


def test_v4_associations_read_and_create(sandbox):
    api, deal = sdk(sandbox), a_deal(sandbox)
    rows = api.crm.associations.v4.basic_api.get_page("deals", deal["id"], "companies").results
    assert [sorted(t.type_id for t in row.association_types) for row in rows] == [[5, 341]]
    contact = sandbox.store.list("contacts")[-1]["id"]
    made = api.crm.associations.v4.basic_api.create_default(
        "deals", deal["id"], "contacts", contact
    )
    assert made.results[0].to.id == contact
    assert contact in sandbox.store.associated_ids("deals", deal["id"], "contacts")


def test_create_update_and_search(sandbox):
    api = sdk(sandbox)
    made = api.crm.deals.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"dealname": "New", "dealstage": "qualifiedtobuy"}
        )
    )
    updated = api.crm.deals.basic_api.update(
        made.id, SimplePublicObjectInput(properties={"job_status": "scheduled"})
    )
    assert updated.properties["job_status"] == "scheduled"
    found = api.crm.companies.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[
                        Filter(property_name="name", operator="EQ", value="tran family bakery")
                    ]
                )
            ],
            properties=["name"],
        )
    )
    assert (found.total, found.results[0].properties["name"]) == (1, "Tran Family Bakery")


def test_errors_come_back_as_hubspot_shapes_with_status(sandbox):
    deal = a_deal(sandbox)["id"]
    with pytest.raises(Exception) as wrong_token:
        sdk(sandbox, token="wrong").crm.deals.basic_api.get_by_id(deal)
    assert wrong_token.value.status == 401
    assert json.loads(wrong_token.value.body)["category"] == "INVALID_AUTHENTICATION"
    with pytest.raises(Exception) as missing:
        sdk(sandbox).crm.deals.basic_api.get_by_id("424242")
    assert missing.value.status == 404
    sandbox.store.set_fault(status=429, count=1, retry_after=7)
    with pytest.raises(Exception) as limited:
        sdk(sandbox).crm.deals.basic_api.get_by_id(deal)
    assert (limited.value.status, limited.value.headers["Retry-After"]) == (429, "7")
    sandbox.store.set_fault(status=500, count=1)
    with pytest.raises(Exception) as broken:
        sdk(sandbox).crm.deals.basic_api.get_by_id(deal)
    assert broken.value.status == 500
    assert sdk(sandbox).crm.deals.basic_api.get_by_id(deal).id == deal


def test_the_signing_function_matches_hubspots_published_v3_vector():
    assert (
        sign_v3(
            secret="yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
            method="POST",
            uri="https://www.example.com/webhook_uri",
            body=b"{'example_field':'example_value'}",
            timestamp="1693657560000",
        )
        == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    )


def test_marking_a_deal_won_in_the_console_sends_one_signed_event(sandbox, receiver):
    deal = a_deal(sandbox, "common-area lighting")
    form = urllib.parse.urlencode({"dealstage": "closedwon"}).encode()
    urllib.request.urlopen(f"{sandbox.url}/console/deals/{deal['id']}/stage", data=form)
    headers, body = wait_for(lambda: Receiver.received and Receiver.received[0], what="a delivery")
    signature_check(
        secret=SECRET,
        method="POST",
        uri=receiver,
        body=body,
        signature=headers["x-hubspot-signature-v3"],
        timestamp=headers["x-hubspot-request-timestamp"],
    )
    (event,) = json.loads(body)
    assert event["subscriptionType"] == "deal.propertyChange"
    assert (event["objectId"], event["propertyName"], event["propertyValue"]) == (
        int(deal["id"]),
        "dealstage",
        "closedwon",
    )
    assert (event["changeSource"], event["attemptNumber"], event["portalId"]) == (
        "CRM_UI",
        0,
        62515,
    )


def test_api_changes_are_marked_as_integration_and_failed_deliveries_are_retried(sandbox):
    Receiver.fail_first = 1
    deal = a_deal(sandbox)["id"]
    sdk(sandbox).crm.deals.basic_api.update(
        deal, SimplePublicObjectInput(properties={"amount": "1"})
    )
    wait_for(lambda: len(Receiver.received) == 2, what="the retried delivery")
    first, again = (json.loads(body)[0] for _, body in Receiver.received)
    assert (first["attemptNumber"], again["attemptNumber"]) == (0, 1)
    assert first["eventId"] == again["eventId"]
    assert (again["changeSource"], again["sourceId"]) == ("INTEGRATION", "54321")


def test_the_console_lists_the_seeded_deals(sandbox):
    page = urllib.request.urlopen(f"{sandbox.url}/").read().decode()
    assert "Walk-in quote - no company yet" in page
    assert "<em>no company</em>" in page


def test_the_console_associates_a_company_and_edits_the_job_status(sandbox):
    deal = a_deal(sandbox, "no company")
    company = sandbox.store.list("companies")[2]["id"]
    data = urllib.parse.urlencode({"company": company}).encode()
    urllib.request.urlopen(f"{sandbox.url}/console/deals/{deal['id']}/company", data=data)
    assert sandbox.store.associated_ids("deals", deal["id"], "companies") == [company]
    sandbox.store.update("deals", deal["id"], {"job_number": "J-1"}, notify=False)
    data = urllib.parse.urlencode({"job_status": "done"}).encode()
    urllib.request.urlopen(f"{sandbox.url}/console/deals/{deal['id']}/job_status", data=data)
    assert sandbox.store.get("deals", deal["id"])["properties"]["job_status"] == "done"


def test_a_fault_can_target_one_method_and_strike_after_the_change_is_saved(sandbox):
    deal = a_deal(sandbox)["id"]
    deals = "/crm/v3/objects/deals/"
    sandbox.store.set_fault(status=503, count=1, method="PATCH", path_prefix=deals, after=True)
    sdk(sandbox).crm.deals.basic_api.get_by_id(deal)  # a read is not the target
    with pytest.raises(Exception) as broken:
        sdk(sandbox).crm.deals.basic_api.update(
            deal, SimplePublicObjectInput(properties={"job_status": "in_progress"})
        )
    assert broken.value.status == 503
    assert sandbox.store.get("deals", deal)["properties"]["job_status"] == "in_progress"


def test_property_groups_and_properties_deserialize_through_the_sdk(sandbox):
    properties = sdk(sandbox).crm.properties
    groups = properties.groups_api.get_all("deals").results
    assert [g.name for g in groups] == ["dealinformation"]
    made = properties.groups_api.create(
        "deals", PropertyGroupCreate(name="integration_hub", label="Integration hub")
    )
    assert (made.name, made.archived) == ("integration_hub", False)
    status = properties.core_api.create(
        "deals",
        PropertyCreate(
            name="job_status",
            label="Job status",
            type="enumeration",
            field_type="select",
            group_name="integration_hub",
            options=[OptionInput(label="Done", value="done", hidden=False, display_order=0)],
        ),
    )
    assert (status.type, status.field_type, status.options[0].value) == (
        "enumeration",
        "select",
        "done",
    )
    read = properties.core_api.get_by_name("0-3", "job_status")
    assert (read.group_name, read.hubspot_defined) == ("integration_hub", False)
    every = {p.name: p for p in properties.core_api.get_all("deals").results}
    assert every["amount"].type == "number" and every["amount"].hubspot_defined
    assert "job_status" in every and "job_status" not in sandbox.store.properties["companies"]


def test_a_property_hubspot_would_refuse_is_refused_as_hubspot_does(sandbox):
    core = sdk(sandbox).crm.properties.core_api
    spec = {"name": "abn", "label": "ABN", "type": "string", "field_type": "text"}
    with pytest.raises(PropertiesApiException) as unknown_group:
        core.create("companies", PropertyCreate(**spec, group_name="nowhere"))
    assert (
        unknown_group.value.status == 400 and "nowhere does not exist" in unknown_group.value.body
    )
    core.create("companies", PropertyCreate(**spec, group_name="companyinformation"))
    with pytest.raises(PropertiesApiException) as twice:
        core.create("companies", PropertyCreate(**spec, group_name="companyinformation"))
    assert twice.value.status == 409 and "OBJECT_ALREADY_EXISTS" in twice.value.body


def token_info(sandbox, token: str):
    return requests.post(
        f"{sandbox.url}/oauth/v2/private-apps/get/access-token-info",
        json={"tokenKey": token},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_a_private_app_token_names_its_account_and_scopes(sandbox):
    sandbox.auth.private_app_add("pat-reader", ("crm.objects.deals.read",))
    found = token_info(sandbox, "pat-reader")
    assert found.status_code == 200
    assert found.json() == {
        "userId": 1,
        "hubId": 62515,
        "appId": 111111,
        "scopes": ["crm.objects.deals.read"],
    }
    assert "crm.schemas.deals.write" in token_info(sandbox, TOKEN).json()["scopes"]
    refused = token_info(sandbox, "pat-unknown")
    assert refused.status_code == 401 and refused.json()["category"] == "INVALID_AUTHENTICATION"


def install(sandbox, *, state: str = "s-1", redirect: str = "http://hub.example/cb") -> str:
    """Agree on the sandbox's install page; return the code it sends back."""
    query = {"client_id": "demo-hubspot-client", "redirect_uri": redirect, "scope": "oauth"}
    page = requests.get(f"{sandbox.url}/oauth/authorize", params=query | {"state": state})
    assert "Connect app" in page.text and "<li>oauth</li>" in page.text
    agreed = requests.post(
        f"{sandbox.url}/oauth/authorize", data=query | {"state": state}, allow_redirects=False
    )
    back = urllib.parse.urlsplit(agreed.headers["Location"])
    said = dict(urllib.parse.parse_qsl(back.query))
    assert agreed.status_code == 302 and back.path == "/cb" and said["state"] == state
    return said["code"]


def test_an_install_code_and_a_refresh_token_give_tokens_through_the_sdk(sandbox):
    oauth = sdk(sandbox).oauth
    client = {"client_id": "demo-hubspot-client", "client_secret": SECRET}
    code = install(sandbox)
    back = {"redirect_uri": "http://hub.example/cb"}
    tokens = oauth.tokens_api.create(grant_type="authorization_code", code=code, **back, **client)
    assert tokens.expires_in == 1800 and tokens.refresh_token.startswith("sbx-refresh-")
    info = oauth.access_tokens_api.get(tokens.access_token)
    assert (info.hub_id, info.scopes, info.token_type) == (62515, ["oauth"], "access")
    assert sdk(sandbox, tokens.access_token).crm.deals.basic_api.get_page(limit=1).results
    again = oauth.tokens_api.create(
        grant_type="refresh_token", refresh_token=tokens.refresh_token, **client
    )
    assert again.access_token != tokens.access_token
    with pytest.raises(OauthApiException) as used:
        oauth.tokens_api.create(
            grant_type="authorization_code",
            code=code,
            redirect_uri="http://hub.example/cb",
            **client,
        )
    assert used.value.status == 400 and "BAD_AUTH_CODE" in used.value.body
    sandbox.auth.installs_revoke()
    with pytest.raises(OauthApiException) as revoked:
        oauth.tokens_api.create(
            grant_type="refresh_token", refresh_token=tokens.refresh_token, **client
        )
    assert (
        revoked.value.status == 400 and json.loads(revoked.value.body)["error"] == "invalid_grant"
    )
    with pytest.raises(DealsApiException) as refused:
        sdk(sandbox, again.access_token).crm.deals.basic_api.get_page(limit=1)
    assert refused.value.status == 401


def test_the_token_endpoint_refuses_another_apps_secret(sandbox):
    with pytest.raises(OauthApiException) as refused:
        sdk(sandbox).oauth.tokens_api.create(
            grant_type="refresh_token",
            refresh_token="anything",
            client_id="demo-hubspot-client",
            client_secret="not-the-secret",
        )
    assert refused.value.status == 400 and "BAD_CLIENT_ID" in refused.value.body


def test_the_consoles_uninstall_button_makes_the_apps_tokens_refused(sandbox):
    code = install(sandbox)
    tokens = sdk(sandbox).oauth.tokens_api.create(
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://hub.example/cb",
        client_id="demo-hubspot-client",
        client_secret=SECRET,
    )
    assert sandbox.auth.accepts(tokens.access_token)
    pressed = requests.post(
        f"{sandbox.url}/console/faults", data={"fault": "uninstall"}, allow_redirects=False
    )
    assert pressed.status_code == 303
    assert not sandbox.auth.accepts(tokens.access_token)
    assert tokens.refresh_token not in sandbox.auth.refresh_tokens
    assert sandbox.auth.accepts(TOKEN)  # the private app's token still works


def test_a_merged_company_reads_as_its_survivor_through_the_sdk(sandbox):
    api = sdk(sandbox)
    survivor, merged = (c["id"] for c in sandbox.store.list("companies")[:2])
    answer = api.crm.companies.basic_api.merge(
        PublicMergeInput(primary_object_id=survivor, object_id_to_merge=merged)
    )
    assert answer.id == survivor and answer.properties["hs_merged_object_ids"] == merged
    # A read of the merged-away id answers with the survivor, under the survivor's own id.
    assert api.crm.companies.basic_api.get_by_id(merged).id == survivor
    batch = api.crm.companies.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=merged)],
            properties=["name", "hs_merged_object_ids"],
            properties_with_history=[],
        )
    )
    (found,) = batch.results
    assert (found.id, found.properties["hs_merged_object_ids"]) == (survivor, merged)
    listed = [c.id for c in api.crm.companies.basic_api.get_page(limit=100).results]
    assert merged not in listed and survivor in listed


def test_merging_a_company_with_itself_is_refused_as_hubspot_does(sandbox):
    company = sandbox.store.list("companies")[0]["id"]
    with pytest.raises(CompaniesApiException) as refused:
        sdk(sandbox).crm.companies.basic_api.merge(
            PublicMergeInput(primary_object_id=company, object_id_to_merge=company)
        )
    assert refused.value.status == 400


def test_the_consoles_merge_button_sends_one_signed_company_merge_event(sandbox, receiver):
    survivor, merged = (c["id"] for c in sandbox.store.list("companies")[:2])
    page = urllib.request.urlopen(f"{sandbox.url}/").read().decode()
    assert f'action="/console/companies/{merged}/merge"' in page
    form = urllib.parse.urlencode({"into": survivor}).encode()
    urllib.request.urlopen(f"{sandbox.url}/console/companies/{merged}/merge", data=form)
    _, body = wait_for(lambda: Receiver.received and Receiver.received[0], what="a delivery")
    (event,) = json.loads(body)
    assert event["subscriptionType"] == "company.merge"
    assert (event["objectId"], event["primaryObjectId"], event["mergedObjectIds"]) == (
        int(survivor),
        int(survivor),
        [int(merged)],
    )
    assert sandbox.store.get("companies", merged)["id"] == survivor
