"""Operations events in the hub's words."""

from connectors.base import BusinessEvent


def business_event(payload: dict) -> BusinessEvent | None:
    """Return the business event for an operations outbox event (they already are one)."""
    if not payload.get("job") or not payload.get("type"):
        return None
    data = {"event_id": payload.get("eventId"), "actor": payload.get("actor", "")}
    return BusinessEvent(payload["type"], "operations", payload["job"], data | payload["data"])
