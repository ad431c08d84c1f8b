"""Operations changes reach the inbox like webhooks and drive a handoff through the worker."""

from handoffs.models import HandoffRun, InboundEvent
from handoffs.sweep import sweep
from operations import services
from operations.models import Job, JobEvent
from tests.helpers import wait_for


def won_job(hub) -> Job:
    deal = next(
        d for d in hub.sandbox.store.list("deals") if "common-area" in d["properties"]["dealname"]
    )
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"})
    return wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")


def test_a_completed_job_is_in_the_inbox_and_the_deal_shows_it(hub, django_user_model):
    job = won_job(hub)
    services.job_transition(job=job, to="in_progress")
    services.job_complete(job=job, by=django_user_model.objects.create_user("tech"), note="Done.")
    event = wait_for(
        lambda: InboundEvent.objects.filter(
            source="operations", event_type="job.completed", state="processed"
        ).first(),
        what="job.completed in the inbox",
    )
    assert event.object_id == job.number and event.payload["actor"] == "tech"
    wait_for(
        lambda: HandoffRun.objects.filter(handoff="job_to_crm", state="done").count() == 3,
        what="job_to_crm for the creation, the start and the completion",
    )
    deal = hub.sandbox.store.get("deals", job.origin_ref)["properties"]
    assert (deal["job_number"], deal["job_status"]) == (job.number, "done")
    assert not JobEvent.objects.filter(forwarded_at__isnull=True).exists()


def test_an_event_left_in_the_outbox_is_forwarded_by_the_sweeper(hub):
    job = won_job(hub)
    # As if the process died between committing the change and forwarding it.
    JobEvent.objects.create(job=job, type="job.status_changed", data={"from": "x", "to": "y"})
    assert sweep()["outbox"] == 1
    wait_for(
        lambda: InboundEvent.objects.filter(
            source="operations", event_type="job.status_changed"
        ).exists(),
        what="the swept event",
    )
