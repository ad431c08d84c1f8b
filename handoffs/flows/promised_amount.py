"""Promised vs invoiced: a finished job whose deal promised another amount than its lines
come to is one review item before its invoice is drafted, and the invoice waits on it.

Both figures are in the terms the job's line prices are in (GST included or not), so like
is compared with like. A person chooses to invoice the lines (the decision holds for those
figures), or corrects the deal: when its new amount reaches the job, the item settles and
the invoice goes on.
"""

from django.db import transaction

from connectors.base import BusinessEvent, JobFacts
from connectors.errors import Disagreement
from connectors.registry import crm, operations
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from handoffs.runs import handoff_runs_retry
from integration_hub import labels
from review_queue.models import ReviewItem
from review_queue.services import review_item_settle

# The action that invoices the lines as they are (handoffs/review_actions/promises.py).
USE_LINES = "use_lines"


def promise_root(number: str) -> str:
    """The one item per job that asks about its promised amount."""
    return f"promise-differs:job:{number}"


def _terms(job: JobFacts) -> str:
    return "including GST" if job.prices_include_gst else "excluding GST"


def _lines_chosen(job: JobFacts) -> bool:
    """Whether a person chose to invoice these lines over this promised amount."""
    return ReviewItem.objects.filter(
        root_key=promise_root(job.number),
        resolution=USE_LINES,
        details__promised=f"{job.amount:.2f}",
        details__lines=f"{job.lines_total:.2f}",
        details__gst=_terms(job),
    ).exists()


def promise_differs(job: JobFacts) -> Disagreement | None:
    """The question a job's invoice waits on when its deal promised another amount than the
    lines come to; None when they agree, the job is not a deal's, or a person chose."""
    sales = crm()
    if job.origin_system != sales.system or job.lines_as_promised or _lines_chosen(job):
        return None
    terms, gap = _terms(job), job.lines_total - job.amount
    return Disagreement(
        f"{sales.label} deal {job.origin_ref} promised {job.amount:,.2f}, but the job's lines "
        f"come to {job.lines_total:,.2f} ({abs(gap):,.2f} {'more' if gap > 0 else 'less'}), "
        f"both {terms}. No invoice was drafted yet.",
        title="Promised amount differs from the lines",
        kind=ReviewItem.Kind.PROMISE_DIFFERS,
        system=operations().system,
        fix="Use the lines to draft the invoice from the lines as they are, or fix the deal: "
        f"set its amount in {sales.label} to {job.lines_total:,.2f}. Once the new amount "
        "reaches the job, this item closes and the invoice is drafted.",
        details={
            "job": job.number,
            "deal": job.origin_ref,
            "deal_system": job.origin_system,
            "promised": f"{job.amount:.2f}",
            "lines": f"{job.lines_total:.2f}",
            "gst": terms,
        },
        root=promise_root(job.number),
    )


def key(happened: BusinessEvent) -> str:
    """One run per change of the job's promise."""
    return f"operations:job:{happened.object_id}:promise:{happened.data.get('event_id')}"


def perform(run: HandoffRun) -> Outcome:
    """Settle the job's open promise item once the deal's amount and the lines agree, and
    send the invoice waiting on it on."""
    item = ReviewItem.objects.filter(
        root_key=promise_root(run.record_ref), status=ReviewItem.Status.OPEN
    ).first()
    if item is None:
        return Outcome(f"No question about job {run.record_ref}'s promise is open.", skipped=True)
    job = operations().job_read(run.record_ref)
    if not job.lines_as_promised:
        return Outcome(
            f"Job {job.number} is promised {job.amount:,.2f}; its lines still come to "
            f"{job.lines_total:,.2f}: the item stays open.",
            skipped=True,
        )
    with transaction.atomic():
        count = handoff_runs_retry(item=item)
        review_item_settle(
            root_key=item.root_key,
            outcome=f"The deal now promises {job.amount:,.2f}, what the lines come to.",
        )
    return Outcome(
        f"Job {job.number}'s deal now promises what its lines come to ({job.amount:,.2f}): "
        f"its item is closed and {labels.count_of(count, 'handoff', 'handoffs')} went on."
    )


handoff_register(
    Handoff(
        name="promised_amount",
        label=labels.HANDOFFS["promised_amount"],
        listens_to=frozenset({"job.promise_changed"}),
        queue="operations",
        record_type="job",
        key=key,
        perform=perform,
    )
)
