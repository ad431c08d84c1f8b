"""Quote accepted in Xero → one job, through the same steps as a won deal.

For businesses that quote in Xero rather than in the CRM. Xero sends no quote webhooks,
so accepted quotes are found by polling (handoffs/xero_poll.py).
"""

from connectors.base import BusinessEvent
from connectors.xero.accounting import XeroAccounting
from connectors.xero.mapping import code, quote_promise
from handoffs.flows.promises import promise_to_job
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register


def key(happened: BusinessEvent) -> str:
    """One job per quote."""
    return f"xero:quote:{happened.object_id}:accepted"


def perform(run: HandoffRun) -> Outcome:
    """Read the quote and its contact; if the quote is accepted, make its job once."""
    xero = XeroAccounting.connected(run.payload.get("tenant"))
    quote = xero.quote_get(run.record_ref)
    run.record_label = f"{quote.quote_number} {quote.title or ''}".strip()
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    if code(quote.status) != "ACCEPTED":
        return Outcome(f"Quote {quote.quote_number} is {code(quote.status)}: no job.", skipped=True)
    contact = xero.contact_get(quote.contact.contact_id)
    return promise_to_job(run, quote_promise(quote, contact))


handoff_register(
    Handoff(
        name="quote_accepted_to_job",
        label="Accepted Xero quote to job",
        listens_to=frozenset({"quote.updated"}),
        queue="xero",
        record_type="deal",
        key=key,
        perform=perform,
    )
)
