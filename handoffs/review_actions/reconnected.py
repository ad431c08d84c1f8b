"""Reconnected: a "Reconnect Xero" (or "Reconnect HubSpot") item closes once the system is
connected again, and the handoffs waiting on it go back to the workers."""

from connectors.models import HubSpotConnection, XeroConnection
from handoffs.runs import handoff_runs_retry
from integration_hub import labels
from review_queue.actions import Action, action_register
from review_queue.models import ReviewItem


def _xero_connected(item: ReviewItem) -> list[str] | None:
    """The organisations that answer the item, or None while one it names is not connected."""
    connected = dict(
        XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED).values_list(
            "tenant_id", "tenant_name"
        )
    )
    tenants = set(item.details.get("tenant_ids") or [])
    if not tenants:  # "nothing is connected": any organisation answers it
        return list(connected.values()) or None
    if not tenants <= set(connected):
        return None
    return item.details.get("organisations") or [connected[t] for t in tenants]


def _hubspot_connected(item: ReviewItem) -> list[str] | None:
    """The account the item's new connection reaches, or None while there is none."""
    connection = HubSpotConnection.current()
    if connection is None or connection.status != HubSpotConnection.Status.CONNECTED:
        return None
    return [f"account {connection.hub_id}"]


CONNECTED = {"xero": ("Xero", _xero_connected), "hubspot": ("HubSpot", _hubspot_connected)}


def _connected_again(item: ReviewItem) -> bool:
    if item.kind != ReviewItem.Kind.CONNECTION or item.system not in CONNECTED:
        return False
    return CONNECTED[item.system][1](item) is not None


def _resume(item: ReviewItem, values: dict, by) -> str:
    count = handoff_runs_retry(item=item)
    name, connected = CONNECTED[item.system]
    said = f"{name} is connected ({', '.join(connected(item) or [])})."
    if not count:
        return f"{said} No handoff was waiting."
    return f"{said} Sent {count} waiting handoff{'s' if count != 1 else ''} back to the workers."


action_register(
    Action(
        name="reconnected",
        label=labels.REVIEW_ACTIONS["reconnected"],
        explanation="The system is connected again: close this item and send the handoffs "
        "waiting on it back to the workers.",
        applies_to=_connected_again,
        perform=_resume,
    )
)
