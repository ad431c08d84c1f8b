"""HubSpot through the SDK against the sandbox: batched reads and writes, and the limit
every worker shares."""

import pytest

from connectors import limits
from connectors.calls import calls_recorded
from connectors.errors import NotFound, RateLimited
from connectors.hubspot.client import HubSpotClient
from connectors.limits import RedisCounts
from connectors.sandbox.hubspot.server import start_in_thread
from tests.conftest import vendor_memory_forget

TOKEN = "client-test-token"
READ = "POST /crm/v3/objects/{kind}/batch/read"
UPDATE = "POST /crm/v3/objects/{kind}/batch/update"


def sandbox_start(**options):
    return start_in_thread(access_token=TOKEN, client_secret="secret", seed="empty", **options)


@pytest.fixture(scope="module")
def crm():
    sandbox = sandbox_start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def hubspot(crm, settings):
    """A client for the sandbox, with fresh books and nothing counted against the limit."""
    crm.store.reset("empty")
    limits._counts.clear()
    yield HubSpotClient(base_url=crm.url, access_token=TOKEN)
    limits._counts.clear()


def made(crm, kind: str, count: int, **properties) -> list[str]:
    return [
        crm.store.create(kind, {"name": f"{kind} {n}", **properties})["id"] for n in range(count)
    ]


def test_companies_are_read_a_hundred_to_a_call_and_missing_ones_left_out(crm, hubspot):
    ids = made(crm, "companies", 150, abn="51824753556")
    with calls_recorded() as calls:
        found = hubspot.companies_read([*ids, "999999", "999998"], ["name", "abn"])
    assert len(found) == 150 and found[ids[0]] == {"name": "companies 0", "abn": "51824753556"}
    assert crm.store.requests[READ.format(kind="companies")] == 2
    assert [c["operation"] for c in calls] == ["BatchApi.read", "BatchApi.read"]


def test_deals_and_contacts_are_read_in_one_call_each(crm, hubspot):
    deals, contacts = made(crm, "deals", 30), made(crm, "contacts", 40, email="a@b.example")
    assert hubspot.deals_read(deals, ["name"])[deals[5]] == {"name": "deals 5"}
    assert hubspot.contacts_read(contacts)[contacts[0]]["email"] == "a@b.example"
    assert crm.store.requests[READ.format(kind="deals")] == 1
    assert crm.store.requests[READ.format(kind="contacts")] == 1


def test_deals_are_updated_a_hundred_to_a_call_and_each_failure_named(crm, hubspot):
    ids = made(crm, "deals", 120)
    changes = {i: {"job_status": "done"} for i in ids} | {"999999": {"job_status": "done"}}
    failed = hubspot.deals_update(changes)
    assert list(failed) == ["999999"] and isinstance(failed["999999"], NotFound)
    assert "has no deal 999999" in failed["999999"].message
    assert {crm.store.get("deals", i)["properties"]["job_status"] for i in ids} == {"done"}
    assert crm.store.requests[UPDATE.format(kind="deals")] == 2


def test_the_single_record_calls_still_read_and_write_one(crm, hubspot):
    (company,) = made(crm, "companies", 1)
    hubspot.company_update(company, {"abn": "12"})
    assert hubspot.company_read(company, ["abn", "name"]) == {"abn": "12", "name": "companies 0"}
    with pytest.raises(NotFound, match="HubSpot has no deal 424242"):
        hubspot.deal_read("424242", ["dealname"])
    with pytest.raises(NotFound):
        hubspot.deal_update("424242", {"job_status": "done"})


def test_a_burst_is_paced_by_the_shared_limit_and_never_meets_a_429(settings, monkeypatch):
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0)
    settings.HUBSPOT_CALLS_PER_10_SECONDS = 10
    limited = sandbox_start(rate_limit_per_10s=10)
    try:
        vendor_memory_forget()
        (company,) = made(limited, "companies", 1)
        outcomes = []
        for _ in range(3):  # three workers, each with its own connection to Redis
            limits._counts[settings.REDIS_URL] = RedisCounts(settings.REDIS_URL)
            client = HubSpotClient(base_url=limited.url, access_token=TOKEN)
            for _ in range(5):
                try:
                    client.company_read(company, ["name"])
                    outcomes.append("ok")
                except RateLimited as error:
                    outcomes.append(error.code)
                    assert 0 < error.retry_after <= 11
                    assert "pacing calls to HubSpot" in error.message
    finally:
        limited.stop()
        limits._counts.clear()
    assert outcomes.count("ok") == 10 and outcomes.count("paced") == 5
    assert limited.store.requests[READ.format(kind="companies")] == 10


def test_hubspots_429_pauses_every_worker_for_its_retry_after(crm, hubspot, settings):
    (company,) = made(crm, "companies", 1)
    crm.store.set_fault(status=429, count=1, retry_after=7)
    with pytest.raises(RateLimited, match="HubSpot asked the hub to slow down") as told:
        hubspot.company_read(company, ["name"])
    assert (told.value.code, told.value.retry_after) == ("rate_limited", 7)
    limits._counts[settings.REDIS_URL] = RedisCounts(settings.REDIS_URL)  # another worker
    with pytest.raises(RateLimited, match="its 10-second limit") as paused:
        HubSpotClient(base_url=crm.url, access_token=TOKEN).company_read(company, ["name"])
    assert paused.value.code == "rate_limited" and 5 < paused.value.retry_after <= 7
    assert crm.store.requests[READ.format(kind="companies")] == 1  # only the first got there
