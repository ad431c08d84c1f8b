"""The invoice's figures in Xero beside the hub's: a difference is an item.

The hub works out each job's subtotal, GST and total as Xero does (operations/money.py);
once Xero has made the draft, its own figures are kept on the job beside the hub's, and
any difference of even a cent opens one review item for the job, never passing in silence.
"""

from connectors.base import InvoiceMade, JobFacts
from connectors.registry import finance
from review_queue.models import ReviewItem
from review_queue.services import review_item_open


def figures_root(number: str) -> str:
    """The one item per job about its invoice's figures."""
    return f"figures-differ:job:{number}"


def figures_compare(job: JobFacts, made: InvoiceMade) -> ReviewItem | None:
    """Open the job's item when the finance system's figures differ from the hub's (and
    return it), else None. (`invoices_record` keeps them on the job.)"""
    hub, theirs = job.figures, made.figures
    if hub == theirs:
        return None
    money = finance()
    terms = "including GST" if job.prices_include_gst else "excluding GST"
    return review_item_open(
        root_key=figures_root(job.number),
        kind=ReviewItem.Kind.FIGURES_DIFFER,
        system=money.system,
        title=f"{money.label}'s invoice figures differ from the hub's: {job.label}",
        reason=f"{money.label} made draft invoice {made.number} for job {job.number} with "
        f"{theirs.text()}; the job's lines (prices {terms}) come to {hub.text()}.",
        action=f"Open invoice {made.number} in {money.label} and check its lines against the "
        "job's (the job page shows both figures). Correct the draft there, or dismiss this "
        "item saying why the difference is right.",
        record_type="job",
        record_ref=job.number,
        record_label=job.label,
        details={
            "job": job.number,
            "invoice": made.number,
            "hub": [f"{v:.2f}" for v in (hub.subtotal, hub.tax, hub.total)],
            "finance": [f"{v:.2f}" for v in (theirs.subtotal, theirs.tax, theirs.total)],
        },
    )
