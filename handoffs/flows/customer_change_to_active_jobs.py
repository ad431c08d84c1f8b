"""A customer's address, name or phone changed: an active job that depends on it goes to
operations for review ("job J-1042 is scheduled at the old address"), even when the
change itself propagated fine. The job is not edited silently."""

from connectors.base import BusinessEvent
from connectors.errors import Disagreement
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Job
from ownership.models import Link

# HubSpot company properties that an active job depends on, and what they mean to it.
DEPENDED_ON = {
    "address": "address",
    "city": "address",
    "state": "address",
    "zip": "address",
    "name": "billing name",
    "phone": "site contact",
}


def key(happened: BusinessEvent) -> str:
    """One run per change event."""
    data = happened.data
    return f"hubspot:company:{happened.object_id}:{data.get('property')}:{data.get('event')}"


def perform(run: HandoffRun) -> Outcome:
    """Find the customer's active jobs; open one review item for operations if there are any."""
    prop, value = run.payload.get("property", ""), run.payload.get("value") or ""
    link = Link.objects.filter(
        system="hubspot", record_type="customer", external_id=run.record_ref
    ).first()
    customer_id = (
        Link.objects.filter(record_id=link.record_id, system="operations")
        .values_list("external_id", flat=True)
        .first()
        if link
        else None
    )
    jobs = (
        list(
            Job.objects.filter(
                customer_id=customer_id, status__in=["scheduled", "in_progress", "on_hold"]
            )
        )
        if customer_id
        else []
    )
    if not jobs:
        return Outcome(
            f"The customer's {DEPENDED_ON[prop]} changed; no active job depends on it.",
            skipped=True,
        )
    run.record_label = jobs[0].customer.name
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    listed = "; ".join(
        f"job {job.number} is {job.get_status_display().lower()} at {job.site_address or 'no site'}"
        for job in jobs
    )
    raise Disagreement(
        f"The customer's {DEPENDED_ON[prop]} changed in HubSpot ({prop} is now {value!r}) while "
        f"work is active: {listed}.",
        title="Customer changed while a job is active",
        kind="active_job_affected",
        system="operations",
        fix="Check with the customer whether the work moves. Update the site on each job page if "
        "it does, then dismiss this item saying what you did.",
        details={
            "field": DEPENDED_ON[prop],
            "property": prop,
            "value": value,
            "jobs": [job.number for job in jobs],
        },
        root=f"company:{run.record_ref}:{DEPENDED_ON[prop]}",
    )


handoff_register(
    Handoff(
        name="customer_change_to_active_jobs",
        label="Customer change to active jobs",
        listens_to=frozenset({"customer.changed"}),
        queue="operations",
        record_type="customer",
        key=key,
        perform=perform,
        applies=lambda happened: happened.data.get("property") in DEPENDED_ON,
    )
)
