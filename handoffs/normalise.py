"""Each source's events turned into business events, by the source's connector."""

from collections.abc import Callable

from connectors.base import BusinessEvent
from connectors.hubspot.mapping import business_event as hubspot_business_event
from connectors.operations.mapping import business_event as operations_business_event
from connectors.xero.mapping import business_event as xero_business_event

NORMALISERS: dict[str, Callable[[dict], BusinessEvent | None]] = {
    "hubspot": hubspot_business_event,
    "operations": operations_business_event,
    "xero": xero_business_event,
}


def business_event(*, source: str, payload: dict) -> BusinessEvent | None:
    """Return the business event for a stored vendor event, or None if it means nothing to us."""
    normaliser = NORMALISERS.get(source)
    return normaliser(payload) if normaliser else None
