"""429, 5xx and a timeout on each vendor write in turn: Xero invoice create, Xero contact
create and update, HubSpot deal update and HubSpot company update. Each fault lasts fewer calls than
a run's attempts (a 429 more: waiting is not failing), so every effect must land once and
no review item may open."""

import time

import pytest

from operations.models import Job

# A run has 3 attempts here (tests/faults/harness.py). The hub's timeouts: HubSpot's client
# gives up after 2 s, Xero's after 3 s (XERO_TIMEOUT_SECONDS).
FAULTS = {
    "429": {"status": 429, "count": 4, "retry_after": 1},
    "503": {"status": 503, "count": 2},
    "timeout": {"count": 1, "after": True},
}
TIMEOUT_MS = {"xero": 4000, "hubspot": 3000}
WRITES = {
    "Xero invoice create": ("xero", "PUT /Invoices"),
    "Xero contact create": ("xero", "PUT /Contacts"),
    "Xero contact update": ("xero", "POST /Contacts"),  # the engine's writes, 50 a request
    "HubSpot deal update": ("hubspot", "/crm/v3/objects/deals/batch/update"),
    "HubSpot company update": ("hubspot", "/crm/v3/objects/companies/batch/update"),
}


def fault_set(hub, write: str, kind: str) -> None:
    """Plan the fault on the write's calls (HubSpot's writes are batch updates)."""
    system, target = WRITES[write]
    fault = FAULTS[kind] | ({"latency_ms": TIMEOUT_MS[system]} if kind == "timeout" else {})
    if system == "xero":
        hub.xero.store.fault_add(operation=target, **fault)
    else:
        hub.hubspot.store.set_fault(method="POST", path_prefix=target, **fault)


def invoiced(hub, deals: list[str]) -> list[Job]:
    """Wait until the deals' jobs are invoiced (their customers then have Xero contacts)."""
    jobs = Job.objects.filter(origin_ref__in=deals)
    hub.until(lambda: not jobs.filter(invoice_number="").exists(), "the jobs to be invoiced")
    return list(jobs)


@pytest.mark.parametrize("write", list(WRITES))
def test_each_vendor_write_survives_429_5xx_and_a_timeout(fault_hub, write):
    hub = fault_hub.start()
    rows = []
    for kind in FAULTS:
        deals = hub.deals_create(2)
        moved = phoned = None
        if write in ("HubSpot company update", "Xero contact update"):
            hub.deals_win(deals)
            hub.jobs_finish(hub.jobs(deals))
            jobs = invoiced(hub, deals)
            fault_set(hub, write, kind)
            if write == "Xero contact update":
                phoned = hub.phones_change(jobs)
            else:
                moved = hub.contacts_move(jobs)
        else:
            fault_set(hub, write, kind)
            hub.deals_win(deals)
            hub.jobs_finish(hub.jobs(deals))
        started = time.monotonic()
        rows.append(
            hub.score(
                f"{write}: {kind}",
                deals=deals,
                finished=True,
                moved=moved,
                phoned=phoned,
                since=started,
            )
        )
    bad = [row for row in rows if not row.clean]
    assert not bad, "\n".join(row.explain() for row in bad)
