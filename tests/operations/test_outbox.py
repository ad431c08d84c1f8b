"""Operations' outbox: Mark done records its event in a few queries and wakes the
dispatcher; the dispatcher (or, after a crash, the sweeper) forwards it to the inbox once."""

import psycopg
import pytest
from django.db import connection

from handoffs.dispatcher import dispatch_pass
from handoffs.models import InboundEvent
from handoffs.sweep import sweep
from operations import services
from operations.events import OUTBOX_CHANNEL
from operations.models import Job, JobEvent
from tests.operations.factories import JobFactory, JobLineFactory


def finished_job_ready(django_user_model) -> tuple[Job, object]:
    job = JobFactory(status="in_progress")
    JobLineFactory(job=job)
    return job, django_user_model.objects.create_user("tech")


@pytest.mark.django_db(transaction=True)  # its BEGIN and COMMIT (and what follows) count
def test_mark_done_takes_at_most_five_queries(django_user_model, django_assert_max_num_queries):
    job, tech = finished_job_ready(django_user_model)
    with django_assert_max_num_queries(5):
        services.job_complete(job=job, by=tech, note="Done.")
    job.refresh_from_db()
    assert (job.status, job.completed_by, job.completion_note) == ("done", tech, "Done.")
    (row,) = job.history.filter(status="done")
    assert (row.history_type, row.history_user) == ("~", tech)
    assert JobEvent.objects.get(job=job, type="job.completed").data["by"] == "tech"


@pytest.mark.django_db(transaction=True)  # NOTIFY is delivered on commit
def test_an_outbox_event_wakes_the_dispatcher_when_it_commits(django_user_model):
    params = {
        name: value
        for name, value in connection.get_connection_params().items()
        if name not in ("cursor_factory", "context", "prepare_threshold")
    }
    with psycopg.connect(**params, autocommit=True) as listener:
        listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        job, tech = finished_job_ready(django_user_model)
        services.job_complete(job=job, by=tech, note="Done.")
        heard = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.channel for n in heard] == [OUTBOX_CHANNEL]


@pytest.mark.django_db
def test_a_dispatcher_pass_forwards_the_outbox_into_the_inbox_once(django_user_model, monkeypatch):
    monkeypatch.setattr("handoffs.dispatch.events_enqueue", lambda ids: None)
    job, tech = finished_job_ready(django_user_model)
    services.job_complete(job=job, by=tech, note="Done.")
    assert dispatch_pass() == (1, 1)
    event = InboundEvent.objects.get(source="operations")
    assert (event.event_type, event.object_id) == ("job.completed", job.number)
    assert not JobEvent.objects.filter(forwarded_at__isnull=True).exists()
    assert dispatch_pass() == (0, 0)


@pytest.mark.django_db
def test_an_event_left_in_the_outbox_is_forwarded_by_the_sweeper():
    job = JobFactory()
    # As if the dispatcher were down when the change committed.
    JobEvent.objects.create(job=job, type="job.status_changed", data={"from": "x", "to": "y"})
    assert sweep()["outbox"] == 1
    assert InboundEvent.objects.get(source="operations").event_type == "job.status_changed"
    assert sweep()["outbox"] == 0
