"""Which connector plays which role (crm, finance, operations), and each source's normaliser.

settings.HUB_CONNECTORS names the class for each role. Everything above connectors/ asks
this module for `crm()`, `finance()`, `operations()` or a system by name, never for a
vendor; a stored event is read by the connector of the system that sent it.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from connectors.base import BusinessEvent

ROLES = ("crm", "finance", "operations")


def connector(role: str):
    """Return the connector that plays this role (cheap: connectors read settings per call)."""
    return import_string(settings.HUB_CONNECTORS[role])()


def crm():
    """The CRM (HubSpot unless settings say otherwise)."""
    return connector("crm")


def finance():
    """The finance system (Xero)."""
    return connector("finance")


def operations():
    """The operations system (the built-in job register)."""
    return connector("operations")


def systems() -> dict[str, object]:
    """Every connected system by its name: {"hubspot": <HubSpot connector>, ...}."""
    return {each.system: each for each in (connector(role) for role in ROLES)}


def system(name: str):
    """Return the connector of the system with this name; KeyError if none is configured."""
    return systems()[name]


def in_organisation(store, organisation: str):
    """The connector reaching one organisation of a system with several (Xero tenants);
    the connector itself for a system with one account, or when none is named."""
    return store.within(organisation) if organisation and hasattr(store, "within") else store


def organisation_of(store) -> str:
    """The organisation a connector reaches, named (its default when it was given none);
    "" for a system with one account. What a link to an id found through it records."""
    return store.home() if hasattr(store, "home") else ""


def role_system(role: str) -> str:
    """The name of the system playing a role (e.g. "crm" → "hubspot")."""
    return connector(role).system


def business_event(*, source: str, payload: dict) -> BusinessEvent | None:
    """Return the business event for a stored vendor event, or None if it means nothing.

    The source is the system that sent it; its connector reads its own events.
    """
    sender = systems().get(source)
    return sender.business_event(payload) if sender else None
