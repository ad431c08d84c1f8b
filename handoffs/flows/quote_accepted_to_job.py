"""Quote accepted in the finance system (Xero) → one job, through the same steps as a won deal.

For businesses that quote in Xero rather than in the CRM. Xero sends no quote webhooks,
so accepted quotes are found by polling (handoffs/polling.py).
"""

from connectors.base import BusinessEvent
from connectors.registry import finance
from handoffs.flows.promises import promise_to_job
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from integration_hub import labels


def key(happened: BusinessEvent) -> str:
    """One job per quote."""
    return f"{happened.system}:quote:{happened.object_id}:accepted"


def perform(run: HandoffRun) -> Outcome:
    """Read the quote as it is now; if it is accepted, make its job once."""
    quote = finance().quote_state(run.record_ref, tenant=run.payload.get("tenant"))
    run.record_label = quote.title
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    if not quote.won or quote.promise is None:
        return Outcome(f"Quote {quote.title} is {quote.stage}: no job.", skipped=True)
    return promise_to_job(run, quote.promise)


handoff_register(
    Handoff(
        name="quote_accepted_to_job",
        label=labels.HANDOFFS["quote_accepted_to_job"],
        listens_to=frozenset({"quote.updated"}),
        queue="xero",
        record_type="deal",
        key=key,
        perform=perform,
    )
)
