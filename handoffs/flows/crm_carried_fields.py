"""A field the CRM only carries was changed there: compare it with its owner, then act by rule.

Today this covers the job fields the HubSpot deal carries (job_status, job_scheduled_start,
job_number: operations owns them). The rule for each field (restore, flag or ignore)
is in the ownership rules; the hub's own writes coming back as webhooks are echoes.
"""

from django.conf import settings

from connectors.base import BusinessEvent
from connectors.errors import Disagreement
from connectors.hubspot.client import HubSpotClient
from handoffs.flows.job_to_crm import deal_properties
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Job
from ownership.models import FieldRule
from ownership.selectors import rule_carried_as


def key(happened: BusinessEvent) -> str:
    """One run per change event."""
    prop = happened.data.get("property")
    return f"hubspot:deal:{happened.object_id}:{prop}:{happened.data.get('event')}"


def carried_rule(prop: str) -> FieldRule | None:
    """Return the job rule whose HubSpot copy is this deal property, if any."""
    return rule_carried_as(record_type="job", system="hubspot", name=prop)


def perform(run: HandoffRun) -> Outcome:
    """Compare the CRM's value with the owner's; restore, flag or ignore as the rule says."""
    prop = run.payload.get("property", "")
    if settings.HUBSPOT_APP_ID and str(run.payload.get("source_id")) == settings.HUBSPOT_APP_ID:
        return Outcome(f"{prop} changed by the hub itself (an echo): nothing to do.", skipped=True)
    rule = carried_rule(prop)
    if rule is None:
        return Outcome(f"No ownership rule makes the deal carry '{prop}'.", skipped=True)
    job = Job.objects.filter(origin_system="hubspot", origin_ref=run.record_ref).first()
    if job is None:
        return Outcome(f"The deal has no job yet, so '{prop}' has no owner value.", skipped=True)
    run.record_label = f"{job.number} {job.title}"
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    owner_value = deal_properties(job)[prop]
    # Events arrive late and out of order: judge the deal as it is now, not as the event said.
    value = HubSpotClient().deal_read(run.record_ref, [prop])[prop] or ""
    if value == owner_value:
        return Outcome(f"HubSpot's {prop} agrees with operations ({value!r}).", skipped=True)
    details = {
        "field": rule.field,
        "label": f"job {rule.field.replace('_', ' ')}",
        "record_type": "job",
        "owner": rule.owner,
        "owner_name": "Operations",
        "other_name": "HubSpot",
        "owner_value": owner_value,
        "other_system": "hubspot",
        "other_field": prop,
        "other_value": value,
        "deal": run.record_ref,
        "job": job.number,
        "editable_by": rule.editable_by,
    }
    if rule.on_disagreement == "ignore":
        return Outcome(
            f"HubSpot says {prop}={value!r}, operations {owner_value!r}; the rule says ignore it.",
            skipped=True,
        )
    if rule.on_disagreement == "restore":
        HubSpotClient().deal_update(run.record_ref, {prop: owner_value})
        return Outcome(
            f"Restored {prop} on the deal to {owner_value!r} (HubSpot had {value!r}); "
            f"operations owns it.",
            result=details,
        )
    raise Disagreement(
        title=f"HubSpot disagrees about {details['label']}",
        message=f"Someone set {prop} on deal {run.record_ref} to {value!r} in HubSpot, but "
        f"operations owns it and job {job.number} says {owner_value!r}.",
        system="hubspot",
        fix="Choose which value is right. Keeping operations' value writes it back to HubSpot; "
        "taking HubSpot's changes job {job.number} in operations.".replace(
            "{job.number}", job.number
        ),
        details=details,
    )


handoff_register(
    Handoff(
        name="crm_carried_fields",
        label="CRM change to a field it does not own",
        listens_to=frozenset({"deal.changed"}),
        queue="hubspot",
        record_type="deal",
        key=key,
        perform=perform,
        applies=lambda happened: carried_rule(happened.data.get("property", "")) is not None,
    )
)
