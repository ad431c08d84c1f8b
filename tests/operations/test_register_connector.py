"""What the register tells the handoffs about the work coming (connectors/operations)."""

import pytest

from connectors.operations.client import JobRegister
from tests.operations.factories import CustomerFactory, JobFactory

pytestmark = pytest.mark.django_db


def test_the_jobs_invoiced_next_are_those_of_finished_jobs_then_of_jobs_under_way():
    """A month end's terms are read ahead, and its new customers' contacts made, for the
    customers whose jobs finish next, whatever the pace at which people mark them done: the
    finished ones first, then those under way; each customer once, with the job invoiced
    first; none whose job is invoiced, booked only, or cancelled."""
    finished, under_way, again, booked, invoiced = CustomerFactory.create_batch(5)
    under_way_job = JobFactory(customer=under_way, status="in_progress")
    finished_job = JobFactory(customer=finished, status="done")
    JobFactory(customer=again, status="in_progress")
    again_done = JobFactory(customer=again, status="done")
    JobFactory(customer=booked, status="scheduled")
    JobFactory(customer=invoiced, status="done", invoice_number="INV-0001")
    JobFactory(customer=invoiced, status="cancelled")
    register = JobRegister()
    assert register.jobs_invoiced_next(10) == {
        str(finished.pk): finished_job.number,
        str(again.pk): again_done.number,
        str(under_way.pk): under_way_job.number,
    }
    assert list(register.jobs_invoiced_next(10)) == [
        str(finished.pk),
        str(again.pk),
        str(under_way.pk),
    ]
    assert list(register.jobs_invoiced_next(2)) == [str(finished.pk), str(again.pk)]
