"""An invoice refused for an unknown item code: choose the item to use, then send it again."""

from connectors.errors import ConnectorError
from connectors.registry import finance, operations
from handoffs.runs import handoff_runs_retry
from integration_hub import labels
from review_queue.actions import Action, ActionFailed, ActionField, action_register
from review_queue.details import details_of
from review_queue.models import ReviewItem


def _has_bad_codes(item: ReviewItem) -> bool:
    return bool(item.details.get("bad_item_codes")) and item.runs.exists()


def _known_codes(item: ReviewItem) -> list[tuple[str, str]]:
    """Return the item codes of the finance organisation that refused the invoice, to choose
    from (none when it cannot be asked)."""
    money = finance().within(item.details.get("organisation") or "")
    try:
        return [(code, code) for code in money.item_codes()]
    except ConnectorError:
        return []


def _chosen(values: dict) -> str:
    code = (values.get("code") or "").strip()
    if not code:
        raise ActionFailed("Choose or type the item code to use.")
    return code


def _preview(item: ReviewItem, values: dict) -> str:
    code, d = _chosen(values), details_of(item)
    job = operations().job_read(d.job)
    lines = sum(1 for line in job.lines if line.item_code in d.bad_item_codes)
    return (
        f"Job {d.job}: {labels.count_of(lines, 'line', 'lines')} with item code "
        f"{', '.join(d.bad_item_codes)} will use "
        f"{code}; then the invoice is sent again as a draft."
    )


def _use_code(item: ReviewItem, values: dict, by) -> str:
    code, d = _chosen(values), details_of(item)
    changed = operations().job_item_codes_replace(d.job, d.bad_item_codes, code)
    count = handoff_runs_retry(item=item)
    lines = labels.count_of(changed, "line", "lines")
    sent = labels.count_of(count, "handoff", "handoffs")
    return (
        f"{lines} of job {d.job} now {'uses' if changed == 1 else 'use'} {code}; {sent} sent again."
    )


action_register(
    Action(
        name="use_item_code",
        label=labels.REVIEW_ACTIONS["use_item_code"],
        explanation="The finance system does not know the item code on the job. Pick the item "
        "to invoice instead; the job's lines change and the invoice is sent again.",
        applies_to=_has_bad_codes,
        perform=_use_code,
        preview=_preview,
        fields=(
            ActionField(
                "code", "Item code", choices=_known_codes, help="The codes your organisation has."
            ),
        ),
    )
)
