"""A job changed after its invoice was approved: credit the invoice and raise a new draft
(a run, once per invoice), or keep the invoice as it is."""

from connectors.base import BusinessEvent
from connectors.registry import finance
from handoffs.flows.approved_invoice import CREDIT, KEEP
from handoffs.registry import handoff_get
from handoffs.runs import handoff_run_start
from integration_hub import labels
from review_queue.actions import Action, action_register
from review_queue.details import details_of
from review_queue.models import ReviewItem


def _applies(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.APPROVED_CHANGED and bool(item.details)


def _credit_preview(item: ReviewItem, values: dict) -> str:
    d, money = details_of(item), finance()
    rest = (
        f" {d.currency} {d.due} of it goes against what is still due; the rest stays as the "
        "customer's credit, to refund or use in Xero."
        if d.due != d.invoiced
        else ""
    )
    return (
        f"In {money.label}: a credit note (ACCRECCREDIT) for {d.currency} {d.invoiced}, with "
        f"invoice {d.invoice}'s own lines, allocated to invoice {d.invoice}.{rest} Then a new "
        f"DRAFT invoice for job {d.job} from its lines now, {d.currency} {d.now}:\n"
        + "\n".join(f"  {line}" for line in d.lines)
        + f"\nInvoice {d.invoice} itself is not changed. Done once, however often it is asked."
    )


def _credit(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    happened = BusinessEvent(
        "job.credit_requested",
        "operations",
        d.job,
        {"invoice_id": d.invoice_id, "invoice": d.invoice, "item": item.pk},
    )
    run, _ = handoff_run_start(handoff=handoff_get(CREDIT), happened=happened)
    return (
        f"Invoice {d.invoice} is being credited and a new draft raised for job {d.job} "
        f"(handoff run {run.pk})."
    )


def _keep_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    return (
        f"Nothing is sent: invoice {d.invoice} stays as approved ({d.currency} {d.invoiced}) "
        f"and job {d.job}'s lines ({d.currency} {d.now}) are no longer flagged against it. A "
        "later change to the lines is asked about again."
    )


def _keep(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    return f"Invoice {d.invoice} is kept as it is for job {d.job}'s lines ({d.currency} {d.now})."


action_register(
    Action(
        name=CREDIT,
        label=labels.REVIEW_ACTIONS[CREDIT],
        explanation="Credit the approved invoice in full with a credit note in Xero, and "
        "draft a new invoice from the job's lines.",
        applies_to=_applies,
        perform=_credit,
        preview=_credit_preview,
    )
)
action_register(
    Action(
        name=KEEP,
        label=labels.REVIEW_ACTIONS[KEEP],
        explanation="Keep the approved invoice as it is; this difference is no longer flagged.",
        applies_to=_applies,
        perform=_keep,
        preview=_keep_preview,
    )
)
