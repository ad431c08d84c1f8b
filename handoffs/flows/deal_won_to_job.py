"""Deal won in the CRM → one job in operations, carrying what was promised."""

from connectors.base import BusinessEvent
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.mapping import job_promise
from handoffs.flows.promises import promise_to_job
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register


def key(happened: BusinessEvent) -> str:
    """One run per deal and stage: a deal re-entering a stage is the same event."""
    return f"{happened.system}:deal:{happened.object_id}:stage:{happened.data.get('stage')}"


def perform(run: HandoffRun) -> Outcome:
    """Fetch the deal; if its stage is a won one, create its job (once)."""
    bundle = HubSpotClient().deal_bundle(run.record_ref)
    run.record_label = bundle.deal.properties.get("dealname") or ""
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    if not bundle.stage.is_won:
        return Outcome(
            f"The deal is now at '{bundle.stage.label}', which is not a won stage: no job.",
            skipped=True,
        )
    return promise_to_job(run, job_promise(bundle))


def preview(run: HandoffRun) -> str:
    """Describe the job a retry would create, reading HubSpot but writing nothing."""
    bundle = HubSpotClient().deal_bundle(run.record_ref)
    if not bundle.stage.is_won:
        return f"Nothing: the deal is now at '{bundle.stage.label}', which is not a won stage."
    promise = job_promise(bundle)
    lines = "\n".join(
        f"  - {line.quantity} x {line.description} ({line.item_code or 'no item code'}) "
        f"at {line.unit_price}"
        for line in promise.lines
    )
    return (
        f"Create a job in the job register for {promise.customer.name}:\n"
        f"  {promise.title}, {promise.currency} {promise.amount}\n"
        f"  site: {promise.site_address or '(none)'}; contact: {promise.site_contact or '(none)'}\n"
        f"{lines or '  (no lines)'}"
    )


handoff_register(
    Handoff(
        name="deal_won_to_job",
        label="Won deal to job",
        listens_to=frozenset({"deal.stage_changed"}),
        queue="hubspot",
        record_type="deal",
        key=key,
        perform=perform,
        preview=preview,
    )
)
