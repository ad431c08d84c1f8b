"""Job status and schedule changed in operations → the HubSpot deal shows them to sales."""

from connectors.base import BusinessEvent
from connectors.hubspot.client import HubSpotClient
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Job


def key(happened: BusinessEvent) -> str:
    """One run per operations event: each change is told to the CRM once."""
    return f"operations:job:{happened.object_id}:event:{happened.data.get('event_id')}"


def deal_properties(job: Job) -> dict[str, str]:
    """Return what the deal carries about its job."""
    start = job.scheduled_start.date().isoformat() if job.scheduled_start else ""
    return {"job_number": job.number or "", "job_status": job.status, "job_scheduled_start": start}


def perform(run: HandoffRun) -> Outcome:
    """Write the job's number, status and start date on the deal it came from."""
    job = Job.objects.filter(number=run.record_ref).first()
    if job is None:
        return Outcome(f"Job {run.record_ref} no longer exists: nothing to tell.", skipped=True)
    run.record_label = job.title
    HandoffRun.objects.filter(pk=run.pk).update(record_label=job.title)
    if job.origin_system != "hubspot":
        return Outcome(f"Job {job.number} did not come from a HubSpot deal.", skipped=True)
    properties = deal_properties(job)
    HubSpotClient().deal_update(job.origin_ref, properties)
    return Outcome(
        f"Deal {job.origin_ref} now shows job {job.number} as {job.get_status_display().lower()}.",
        result=properties,
    )


def preview(run: HandoffRun) -> str:
    """Describe what the deal would be given."""
    job = Job.objects.filter(number=run.record_ref).first()
    if job is None or job.origin_system != "hubspot":
        return "Nothing: the job did not come from a HubSpot deal."
    return f"Set on HubSpot deal {job.origin_ref}: {deal_properties(job)}"


handoff_register(
    Handoff(
        name="job_to_crm",
        label="Job progress to the CRM",
        listens_to=frozenset(
            {"job.created", "job.status_changed", "job.completed", "job.rescheduled"}
        ),
        queue="hubspot",
        record_type="job",
        key=key,
        perform=perform,
        preview=preview,
    )
)
