"""Deal won in the CRM → one job in operations, carrying what was promised."""

from connectors.base import BusinessEvent
from connectors.registry import crm
from handoffs.flows.promises import promise_to_job
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from integration_hub import labels


def key(happened: BusinessEvent) -> str:
    """One run per deal and stage: a deal re-entering a stage is the same event."""
    return f"{happened.system}:deal:{happened.object_id}:stage:{happened.data.get('stage')}"


def perform(run: HandoffRun) -> Outcome:
    """Read the deal as it is now; if its stage is a won one, create its job (once).

    A change to a stage that is not won needs no read: whatever the deal's stage is now,
    the change that made it won (if any) has its own run.
    """
    sales = crm()
    moved_to = run.payload.get("stage")
    if moved_to:
        name, won = sales.stage(moved_to)
        if not won:
            return Outcome(
                f"The deal moved to '{name}', which is not a won stage: no job.", skipped=True
            )
    deal = sales.deal_state(run.record_ref)
    run.record_label = deal.title
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    if deal.problem is not None:
        raise deal.problem
    if not deal.won or deal.promise is None:
        return Outcome(
            f"The deal is now at '{deal.stage}', which is not a won stage: no job.", skipped=True
        )
    return promise_to_job(run, deal.promise)


def preview(run: HandoffRun) -> str:
    """Describe the job a retry would create, reading the CRM but writing nothing."""
    deal = crm().deal_state(run.record_ref)
    if deal.problem is not None:
        return f"It would stop again: {deal.problem}"
    if not deal.won or deal.promise is None:
        return f"Nothing: the deal is now at '{deal.stage}', which is not a won stage."
    promise = deal.promise
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
        label=labels.HANDOFFS["deal_won_to_job"],
        listens_to=frozenset({"deal.stage_changed"}),
        queue="hubspot",
        record_type="deal",
        key=key,
        perform=perform,
        preview=preview,
    )
)
