"""A customer seen by two runs at once (its own change and a deal won for it) becomes one
record: sightings of one customer take turns."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from connectors.base import CustomerDetails
from ownership.matching import customer_first_seen
from ownership.models import Link, Record


@pytest.mark.django_db(transaction=True)
def test_two_runs_seeing_a_new_customer_together_make_one_record():
    details = CustomerDetails(system="hubspot", external_id="777", name="Harbour View Cafe")
    together = threading.Barrier(4)

    def see(_) -> int:
        together.wait()
        try:
            return customer_first_seen(details=details, only=set()).record.pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(see, range(4)))
    assert len(set(seen)) == 1
    assert Record.objects.count() == 1 and Link.objects.count() == 1
