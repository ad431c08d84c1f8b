"""A quote changed after work started: apply it to the job (a choice the engine applies)."""

from handoffs.review_actions.values import choice_apply
from integration_hub import labels
from ownership.models import FieldChoice, Link
from review_queue.actions import Action, ActionFailed, action_register
from review_queue.details import details_of
from review_queue.models import ReviewItem


def _is_quote_change(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.QUOTE_CHANGED and "after" in item.details


def _apply_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    removed = [f"  - {line}" for line in d.before if line not in d.after]
    added = [f"  + {line}" for line in d.after if line not in d.before]
    return "\n".join([f"Job {d.job} takes what the deal promises now:", *removed, *added])


def _apply_to_job(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    link = Link.objects.filter(record_id=d.record).exclude(system="operations").first()
    if link is None:
        raise ActionFailed(f"The hub no longer knows which deal job {d.job} came from.")
    for name in ("amount", "line_items"):
        FieldChoice.objects.create(record_id=d.record, field=name, system=link.system, by=by)
    choice_apply(record_id=d.record, change=f"apply-quote:{item.pk}:{item.occurrences}")
    return f"Job {d.job} is being given the deal's amount and lines."


action_register(
    Action(
        name="apply_to_job",
        label=labels.REVIEW_ACTIONS["apply_to_job"],
        explanation="Replace the job's promised amount and lines with the deal's.",
        applies_to=_is_quote_change,
        perform=_apply_to_job,
        preview=_apply_preview,
    )
)
