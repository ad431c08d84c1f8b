"""Reconnected: a "Reconnect Xero" item closes once its organisations are connected again,
and the handoffs waiting on it go back to the workers."""

from connectors.models import XeroConnection
from handoffs.runs import handoff_runs_retry
from review_queue.actions import Action, action_register
from review_queue.models import ReviewItem


def _connected_again(item: ReviewItem) -> bool:
    if item.kind != ReviewItem.Kind.CONNECTION or item.system != "xero":
        return False
    connected = XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED)
    tenants = set(item.details.get("tenant_ids") or [])
    if not tenants:  # "nothing is connected": any organisation answers it
        return connected.exists()
    return tenants <= set(connected.values_list("tenant_id", flat=True))


def _resume(item: ReviewItem, values: dict, by) -> str:
    count = handoff_runs_retry(item=item)
    names = item.details.get("organisations") or XeroConnection.objects.filter(
        status=XeroConnection.Status.CONNECTED
    ).values_list("tenant_name", flat=True)
    said = f"Xero is connected ({', '.join(names)})."
    if not count:
        return f"{said} No handoff was waiting."
    return f"{said} Sent {count} waiting handoff{'s' if count != 1 else ''} back to the workers."


action_register(
    Action(
        name="reconnected",
        label="Resume: Xero is connected again",
        explanation="The organisation is connected again: close this item and send the "
        "handoffs waiting on it back to the workers.",
        applies_to=_connected_again,
        perform=_resume,
    )
)
