"""Operations events in the hub's words."""

from connectors.base import BusinessEvent


def business_event(payload: dict) -> BusinessEvent | None:
    """Return the business event for an operations outbox event (they already are one).

    A job's events name the job by its number; a customer's, the customer by its id.
    """
    if not payload.get("type"):
        return None
    data = {"event_id": payload.get("eventId"), "actor": payload.get("actor", "")}
    data |= payload.get("data") or {}
    if payload.get("job"):
        return BusinessEvent(payload["type"], "operations", payload["job"], data)
    if payload.get("customer"):
        return BusinessEvent(payload["type"], "operations", str(payload["customer"]), data)
    return None
