"""Xero webhook events in the hub's words (they carry ids only: handoffs fetch the rest)."""

from connectors.base import BusinessEvent

NOUNS = {"INVOICE": "invoice", "CONTACT": "xero_contact", "CREDITNOTE": "credit_note"}


def business_event(payload: dict) -> BusinessEvent | None:
    """Return e.g. invoice.updated for an INVOICE UPDATE event, or None for other categories."""
    noun = NOUNS.get(str(payload.get("eventCategory", "")).upper())
    if noun is None:
        return None
    verb = {"CREATE": "created", "UPDATE": "updated"}.get(
        str(payload.get("eventType")).upper(), "changed"
    )
    data = {"tenant": payload.get("tenantId"), "event": payload.get("eventDateUtc")}
    return BusinessEvent(f"{noun}.{verb}", "xero", str(payload["resourceId"]), data)
