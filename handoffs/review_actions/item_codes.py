"""An invoice refused for an unknown item code: choose the Xero item to use, then retry."""

from connectors.errors import ConnectorError
from connectors.models import XeroConnection
from connectors.xero.accounting import XeroAccounting
from handoffs.runs import handoff_runs_retry
from operations.models import JobLine
from review_queue.actions import Action, ActionFailed, ActionField, action_register
from review_queue.models import ReviewItem


def _has_bad_codes(item: ReviewItem) -> bool:
    return bool(item.details.get("bad_item_codes")) and item.runs.exists()


def _known_codes(item: ReviewItem) -> list[tuple[str, str]]:
    """Return Xero's item codes to choose from (none when Xero cannot be asked)."""
    connection = XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED).first()
    if connection is None:
        return []
    try:
        return [(code, code) for code in XeroAccounting(connection).item_codes()]
    except ConnectorError:
        return []


def _chosen(item: ReviewItem, values: dict) -> str:
    code = (values.get("code") or "").strip()
    if not code:
        raise ActionFailed("Choose or type the Xero item code to use.")
    return code


def _preview(item: ReviewItem, values: dict) -> str:
    code, d = _chosen(item, values), item.details
    bad = ", ".join(d["bad_item_codes"])
    lines = JobLine.objects.filter(job__number=d["job"], item_code__in=d["bad_item_codes"]).count()
    return (
        f"Job {d['job']}: {lines} line(s) with item code {bad} will use {code}; then the "
        "invoice is sent to Xero again as a draft."
    )


def _use_code(item: ReviewItem, values: dict, by) -> str:
    code, d = _chosen(item, values), item.details
    changed = JobLine.objects.filter(
        job__number=d["job"], item_code__in=d["bad_item_codes"]
    ).update(item_code=code)
    count = handoff_runs_retry(item=item)
    return f"{changed} line(s) of job {d['job']} now use {code}; {count} handoff(s) sent again."


action_register(
    Action(
        name="use_item_code",
        label="Use this item code",
        explanation="Xero does not know the item code on the job. Pick the Xero item to invoice "
        "instead; the job's lines change and the invoice is sent again.",
        applies_to=_has_bad_codes,
        perform=_use_code,
        preview=_preview,
        fields=(
            ActionField(
                "code",
                "Xero item code",
                choices=_known_codes,
                help="The codes your Xero organisation has.",
            ),
        ),
    )
)
