"""The deal's amount changed in the CRM (which owns it): a job not yet started follows it;
a job already under way is not edited silently but sent to review with the difference."""

from decimal import Decimal

from django.conf import settings

from connectors.base import BusinessEvent
from connectors.errors import Disagreement
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.mapping import job_promise
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Job
from operations.services import job_promise_update, promised_lines

PROMISE_PROPERTIES = {"amount"}


def key(happened: BusinessEvent) -> str:
    """One run per change event."""
    data = happened.data
    return f"hubspot:deal:{happened.object_id}:{data.get('property')}:{data.get('event')}"


def _line_texts(lines) -> list[str]:
    return [
        f"{Decimal(line['quantity']).normalize():f} x {line['description']} "
        f"({line['item_code'] or 'no code'}) at {Decimal(line['unit_price']):.2f}"
        for line in lines
    ]


def perform(run: HandoffRun) -> Outcome:
    """Bring the job in line with the deal, or open a review item if work has started."""
    if settings.HUBSPOT_APP_ID and str(run.payload.get("source_id")) == settings.HUBSPOT_APP_ID:
        return Outcome("Changed by the hub itself (an echo): nothing to do.", skipped=True)
    job = Job.objects.filter(origin_system="hubspot", origin_ref=run.record_ref).first()
    if job is None:
        return Outcome("The deal has no job yet: nothing to update.", skipped=True)
    run.record_label = f"{job.number} {job.title}"
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    promise = job_promise(HubSpotClient().deal_bundle(run.record_ref))
    lines = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "item_code": line.item_code,
        }
        for line in promise.lines
    ]
    before = {"amount": f"{job.amount:.2f}", "lines": promised_lines(job)}
    after = {"amount": f"{promise.amount:.2f}", "lines": _line_texts(lines)}
    if before == after:
        return Outcome(f"Job {job.number} already matches the deal.", skipped=True)
    if job.status == Job.Status.SCHEDULED:
        job_promise_update(job=job, amount=promise.amount, lines=lines)
        return Outcome(
            f"Job {job.number} now carries the deal's amount {promise.amount:.2f} and "
            f"its {len(lines)} line(s).",
            result={"before": before, "after": after},
        )
    raise Disagreement(
        f"The deal changed after work started on job {job.number} "
        f"({job.get_status_display().lower()}): amount {before['amount']} → {after['amount']}. "
        "The job was not changed.",
        title="Quote changed after work started",
        kind="quote_changed",
        system="hubspot",
        fix="Check with the customer and the crew. 'Apply to the job' replaces the job's promised "
        "amount and lines with the deal's; dismiss to keep the job as it is.",
        details={
            "field": "promise",
            "job": job.number,
            "deal": run.record_ref,
            "before": before,
            "after": after,
            "lines": [{k: str(v) for k, v in line.items()} for line in lines],
        },
    )


handoff_register(
    Handoff(
        name="deal_changes_to_job",
        label="Deal change to its job",
        listens_to=frozenset({"deal.changed"}),
        queue="hubspot",
        record_type="deal",
        key=key,
        perform=perform,
        applies=lambda happened: happened.data.get("property") in PROMISE_PROPERTIES,
    )
)
