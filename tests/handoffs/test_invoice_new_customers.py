"""Finished jobs of customers not linked to Xero contacts yet: the contacts are looked up in
one search (the hub's ContactNumber and each customer's ABN, email and name; the whole
contact list when that is fewer calls) and made 50 to a request. Each contact is made once
whatever its request meets (a 429, a 5xx, a timeout, an answer lost after Xero made them),
and a name that only might be the customer waits on a person, never a guess."""

import pytest
from django.utils import timezone

from connectors.calls import calls_recorded
from connectors.errors import ConnectorError
from connectors.xero import contacts
from connectors.xero.finance import XeroFinance
from handoffs.flows.job_done_to_invoice import batch
from handoffs.models import HandoffRun
from operations.models import Job
from review_queue.models import ReviewItem
from tests.operations.factories import CustomerFactory, JobFactory, JobLineFactory
from tests.xero_helpers import connect_xero, xero_org

FAULTS = {
    "429": {"status": 429, "retry_after": 1},
    "503": {"status": 503},
    "timeout": {"latency_ms": 4000, "after": True},  # made; the answer comes too late
    "lost answer": {"status": 500, "after": True},  # made; the answer never comes
}


@pytest.fixture
def list_read(monkeypatch):
    """Searches too long for one `where` (as a month end's are): the hub reads the list."""
    monkeypatch.setattr(contacts, "WHERE_MAX_BYTES", 120)


def jobs_done(count: int) -> list[Job]:
    """Finished jobs, each for a new customer the hub has never linked to Xero."""
    jobs = []
    for n in range(count):
        customer = CustomerFactory(name=f"Newco {n} Pty Ltd", email=f"accounts@newco{n}.example")
        job = JobFactory(status="done", customer=customer)
        JobLineFactory(job=job)
        jobs.append(job)
    return jobs


def runs_for(jobs: list[Job], state: str = "running") -> list[HandoffRun]:
    """The jobs' invoicing runs, held as a worker holds the batch it runs (or waiting)."""
    return [
        HandoffRun.objects.get_or_create(
            handoff="job_done_to_invoice",
            key=f"operations:job:{job.number}:invoice",
            defaults={
                "queue": "xero",
                "record_system": "operations",
                "record_type": "job",
                "record_ref": job.number,
                "state": state,
                "lease_expires_at": timezone.now() + timezone.timedelta(hours=1),
            },
        )[0]
        for job in jobs
    ]


def settle(runs: list[HandoffRun]) -> list:
    """Run the batch as the worker's retries would, until no attempt fails as a whole."""
    for _ in range(3):
        try:
            return batch(runs)
        except ConnectorError as error:
            assert error.transient, error
    raise AssertionError("The batch kept failing.")


def finish(runs: list[HandoffRun]) -> None:
    HandoffRun.objects.filter(pk__in=[run.pk for run in runs]).update(state="done")


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_new_contact_is_made_once_whatever_its_request_meets(hub, list_read, fault, settings):
    settings.XERO_TIMEOUT_SECONDS = 3  # the timeout's answer comes after 4
    connect_xero(hub)
    org = xero_org(hub)
    jobs = jobs_done(4)
    hub.xero.store.fault_add(operation="PUT /Contacts", count=1, **FAULTS[fault])
    first = runs_for(jobs[:3])
    with pytest.raises(ConnectorError) as failed:
        batch(first)
    assert failed.value.transient
    # Tried again in another batch (another Idempotency-Key): the lost ones are found by
    # their ContactNumber, not made twice.
    runs = runs_for(jobs)
    outcomes = settle(runs)
    finish(runs)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    names = sorted(c["Name"] for c in org.contacts.values() if c["Name"].startswith("Newco"))
    assert names == [f"Newco {n} Pty Ltd" for n in range(4)]
    assert sorted(i["Reference"] for i in org.invoices.values()) == sorted(j.number for j in jobs)
    assert not ReviewItem.objects.exclude(kind="xero_connection").exists()


def test_contacts_are_found_by_number_matched_or_made_and_a_mere_name_asks_a_person(hub, list_read):
    connect_xero(hub)
    org = xero_org(hub)
    jobs = jobs_done(4)
    records = [job.customer for job in jobs]
    org.contacts["c-email"] = {
        "ContactID": "c-email",
        "Name": "Newco Zero",
        "EmailAddress": records[0].email,
        "ContactStatus": "ACTIVE",
        "UpdatedDateUTC": "/Date(1732500000000+0000)/",
    }
    org.contacts["c-name"] = {  # the same name, another email: maybe, maybe not
        "ContactID": "c-name",
        "Name": records[1].name,
        "EmailAddress": "someone@else.example",
        "ContactStatus": "ACTIVE",
        "UpdatedDateUTC": "/Date(1732500000000+0000)/",
    }
    runs = runs_for(jobs)
    with calls_recorded() as calls:
        outcomes = settle(runs)
    finish(runs)
    assert isinstance(outcomes[1], ConnectorError)  # waits on its item
    item = ReviewItem.objects.get(kind="possible_duplicate")
    assert records[1].name in item.title
    by_reference = {i["Reference"]: i["Contact"]["ContactID"] for i in org.invoices.values()}
    assert by_reference[jobs[0].number] == "c-email"
    assert jobs[1].number not in by_reference
    made = [c for c in org.contacts.values() if c.get("ContactNumber", "").startswith("HUB-")]
    assert sorted(c["Name"] for c in made) == sorted(r.name for r in records[2:])
    # One read of the list, one request to make the two contacts (a call the hub's own
    # pacing held back, for settle() to run the batch again, reached nobody), then one read
    # of the matched contact's payment terms, for its invoice's due date.
    sent = [
        (c["operation"], c["request"])
        for c in calls
        if "contacts" in c["operation"] and c["status"] == "ok"
    ]
    assert [operation for operation, _ in sent] == [
        "get_contacts",
        "create_contacts",
        "get_contacts",
    ], calls
    assert sent[0][1].startswith("looking for") and sent[2][1] == "reading 1 contacts", sent


@pytest.mark.parametrize("later", ["waiting their turn", "under way"])
def test_the_new_customers_of_the_jobs_that_come_next_are_settled_in_the_same_calls(
    hub, list_read, later
):
    """The first batch that makes contacts makes those of the jobs that come next too:
    finished and waiting their turn, or still under way (people mark a month end's jobs
    done at their own pace). Their batches then search for and make none. A job only
    booked, or cancelled, makes no contact."""
    connect_xero(hub)
    org = xero_org(hub)
    jobs = jobs_done(4)
    if later == "under way":
        Job.objects.filter(pk__in=[job.pk for job in jobs[2:]]).update(status="in_progress")
    else:
        runs_for(jobs[2:], state="pending")
    for status in ("scheduled", "cancelled"):
        JobFactory(status=status, customer=CustomerFactory(name=f"Not yet ({status}) Pty Ltd"))
    runs = runs_for(jobs[:2])
    with calls_recorded() as calls:
        settle(runs)
    # All four customers have their contacts: one search, one request to make them.
    made = sorted(c["Name"] for c in org.contacts.values() if c["Name"].endswith("Pty Ltd"))
    assert made == [f"Newco {n} Pty Ltd" for n in range(4)]
    operations = [c["operation"] for c in calls if "contacts" in c["operation"]]
    assert operations == ["get_contacts", "create_contacts"]
    finish(runs)
    Job.objects.filter(pk__in=[job.pk for job in jobs[2:]]).update(status="done")
    HandoffRun.objects.filter(record_ref__in=[job.number for job in jobs[2:]]).update(
        state="running"
    )
    waiting = runs_for(jobs[2:])
    with calls_recorded() as calls:
        settle(waiting)
    finish(waiting)
    assert [c["operation"] for c in calls if "contacts" in c["operation"]] == []
    assert org.requests["PUT /Contacts"] == 1  # their turn makes no contact
    assert sorted(i["Reference"] for i in org.invoices.values()) == sorted(j.number for j in jobs)


def test_a_contact_another_batch_made_after_the_search_is_linked_not_refused(
    hub, list_read, monkeypatch
):
    """Two workers' batches may settle the same new customer (one as its own, one ahead):
    both search, find nothing, and ask Xero to make it. Xero refuses the second as a number
    already taken; that contact carries the hub's id, so it is the customer's: linked and
    invoiced, with no item."""
    connect_xero(hub)
    org = xero_org(hub)
    jobs = jobs_done(2)
    searched = XeroFinance.customers_sought

    def another_batch_makes_it_after_the_search(self, hub_ids, many):
        answer = searched(self, hub_ids, many)
        org.contacts["c-theirs"] = {
            "ContactID": "c-theirs",
            "Name": "Newco 0 Pty Ltd",
            "ContactNumber": f"HUB-{hub_ids[0]}",
            "EmailAddress": "accounts@newco0.example",
            "ContactStatus": "ACTIVE",
            "UpdatedDateUTC": "/Date(1732500000000+0000)/",
        }
        return answer

    monkeypatch.setattr(XeroFinance, "customers_sought", another_batch_makes_it_after_the_search)
    runs = runs_for(jobs)
    outcomes = settle(runs)
    finish(runs)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    by_reference = {i["Reference"]: i["Contact"]["ContactID"] for i in org.invoices.values()}
    assert by_reference[jobs[0].number] == "c-theirs"
    names = [c["Name"] for c in org.contacts.values() if c["Name"].startswith("Newco")]
    assert sorted(names) == ["Newco 0 Pty Ltd", "Newco 1 Pty Ltd"]
    assert not ReviewItem.objects.exclude(kind="xero_connection").exists()
