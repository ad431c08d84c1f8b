"""PostgreSQL connections cut under load (every connection dropped, new ones refused for a
while, then a second cut): the hub reconnects and nothing is lost, doubled or stuck."""

import time

from operations.models import Job
from tests.helpers import wait_for

REFUSED_SECONDS = 3


def test_postgres_connections_cut_under_load(fault_hub):
    hub = fault_hub.start()
    deals = hub.deals_create(30)
    hub.deals_win(deals)
    hub.until(lambda: Job.objects.count() >= 10, "a third of the jobs")
    hub.db.refuse(REFUSED_SECONDS)
    wait_for(
        lambda: time.monotonic() >= hub.db.refusing_until,
        what="the refusal to end",
        timeout=REFUSED_SECONDS + 5,
    )
    hub.jobs_finish(hub.jobs(deals))
    invoiced = Job.objects.exclude(invoice_number="")
    hub.until(lambda: invoiced.count() >= 10, "a third of the invoices")
    hub.db.cut()
    ended = time.monotonic()
    row = hub.score(
        "PostgreSQL cut and refused under load (30 deals won and invoiced)",
        deals=deals,
        finished=True,
        since=ended,
    )
    assert row.clean, row.explain()
