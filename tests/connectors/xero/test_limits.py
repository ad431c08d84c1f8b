"""Xero's limits through the hub, against the sandbox enforcing them: paced, never a 429."""

import threading

import pytest
import requests
from django.db import connections

from connectors import limits
from connectors.errors import RateLimited
from connectors.models import XeroConnection
from connectors.xero.accounting import XeroAccounting
from tests.connectors.xero.conftest import workers_run

pytestmark = pytest.mark.django_db(transaction=True)


def calls_elsewhere(xero, connection: XeroConnection, count: int) -> None:
    """Calls Xero counts that the hub did not make (another copy of the app, a script)."""
    headers = {
        "Authorization": f"Bearer {connection.access_token}",
        "xero-tenant-id": connection.tenant_id,
        "Accept": "application/json",
    }
    for _ in range(count):
        assert requests.get(f"{xero.url}/api.xro/2.0/Items", headers=headers, timeout=5).ok


def test_a_burst_from_several_worker_processes_is_paced_and_never_meets_a_429(xero, organisation):
    results = workers_run(xero, organisation, processes=3, calls=25)
    org = xero.store.organisations[organisation.tenant_id]
    assert sum(r["ok"] for r in results) == 60  # Xero's minute, used to the last call
    paced = [wait for r in results for wait in r["paced"]]
    assert len(paced) == 15 and all(45 < wait <= 62 for wait in paced)
    assert [r["rate_limited"] + r["failed"] for r in results] == [[], [], []]
    assert (org.rejected, org.requests["GET /Items"]) == (0, 60)


def test_calls_xero_counted_but_the_hub_did_not_make_never_lead_it_into_a_429(xero, organisation):
    calls_elsewhere(xero, organisation, 58)
    hub = XeroAccounting(organisation)
    hub.item_codes()  # Xero says 1 call is left this minute; the hub believes it
    hub.item_codes()
    with pytest.raises(RateLimited, match="The hub is pacing calls to Xero") as paced:
        hub.item_codes()
    assert paced.value.code == "paced" and 55 < paced.value.retry_after <= 62
    assert xero.store.organisations[organisation.tenant_id].rejected == 0


def test_xeros_429_pauses_the_organisation_for_every_worker_until_retry_after(xero, organisation):
    calls_elsewhere(xero, organisation, 60)
    with pytest.raises(RateLimited, match="Xero asked the hub to slow down") as told:
        XeroAccounting(organisation).item_codes()
    assert told.value.code == "rate_limited" and 55 < told.value.retry_after <= 61
    (other,) = workers_run(xero, organisation, processes=1, calls=3)
    assert other["ok"] == 0 and len(other["rate_limited"]) == 3
    assert all(50 < wait <= 61 for wait in other["rate_limited"])
    assert xero.store.organisations[organisation.tenant_id].rejected == 1  # that one call


def test_the_day_xero_reports_is_obeyed(xero, organisation):
    xero.store.day_limit = 3
    hub = XeroAccounting(organisation)
    for _ in range(3):
        hub.item_codes()
    with pytest.raises(RateLimited, match="calls-a-day limit") as paced:
        hub.item_codes()
    assert paced.value.retry_after > 86000
    assert xero.store.organisations[organisation.tenant_id].rejected == 0


def test_slow_calls_from_many_threads_never_exceed_five_at_once(xero, organisation, monkeypatch):
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 30)
    xero.store.faults = {"latency_ms": 300}
    failures = []

    def worker() -> None:
        try:
            hub = XeroAccounting(XeroConnection.objects.get(pk=organisation.pk))
            for _ in range(2):
                hub.item_codes()
        except Exception as error:  # noqa: BLE001 (asserted below)
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    org = xero.store.organisations[organisation.tenant_id]
    assert failures == []
    assert (org.rejected, org.requests["GET /Items"]) == (0, 16)
