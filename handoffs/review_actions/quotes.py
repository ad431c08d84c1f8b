"""A quote changed after work started: apply it to the job."""

from decimal import Decimal

from handoffs.runs import handoff_runs_close
from operations.models import Job
from operations.services import job_promise_update
from review_queue.actions import Action, action_register
from review_queue.models import ReviewItem


def _is_quote_change(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.QUOTE_CHANGED and "after" in item.details


def _apply_preview(item: ReviewItem, values: dict) -> str:
    d = item.details
    removed = [f"  - {line}" for line in d["before"]["lines"] if line not in d["after"]["lines"]]
    added = [f"  + {line}" for line in d["after"]["lines"] if line not in d["before"]["lines"]]
    return "\n".join(
        [
            f"Job {d['job']}: amount {d['before']['amount']} → {d['after']['amount']}",
            *removed,
            *added,
        ]
    )


def _apply_to_job(item: ReviewItem, values: dict, by) -> str:
    d = item.details
    job = Job.objects.get(number=d["job"])
    lines = [
        {
            "description": line["description"],
            "quantity": Decimal(line["quantity"]),
            "unit_price": Decimal(line["unit_price"]),
            "item_code": line["item_code"],
        }
        for line in d["lines"]
    ]
    job_promise_update(job=job, amount=Decimal(d["after"]["amount"]), lines=lines, by=by)
    outcome = f"Job {job.number} now carries the deal's amount {d['after']['amount']} and lines."
    handoff_runs_close(item=item, summary=f"Resolved from the review queue: {outcome}")
    return outcome


action_register(
    Action(
        name="apply_to_job",
        label="Apply to the job",
        explanation="Replace the job's promised amount and lines with the deal's.",
        applies_to=_is_quote_change,
        perform=_apply_to_job,
        preview=_apply_preview,
    )
)
