"""Which connector plays which role (crm, finance, operations), and each source's normaliser.

settings.HUB_CONNECTORS names the class for each role. Everything above connectors/ asks
this module for `crm()`, `finance()`, `operations()` or a system by name, never for a
vendor; a stored event is read by the connector of the system that sent it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

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


_SHARED: ContextVar[dict[str, object] | None] = ContextVar("shared_systems", default=None)


def systems() -> dict[str, object]:
    """Every connected system by its name: {"hubspot": <HubSpot connector>, ...}."""
    shared = _SHARED.get()
    if shared is not None:
        return shared
    return {each.system: each for each in (connector(role) for role in ROLES)}


@contextmanager
def systems_shared() -> Iterator[None]:
    """Within this block `systems()` answers the same connectors each time, so what one
    part read is there for the next (a deal read for its invoice's fields holds its job's
    too). Connectors keep what they read only while they live: one engine run."""
    if _SHARED.get() is not None:
        yield
        return
    token = _SHARED.set({each.system: each for each in (connector(role) for role in ROLES)})
    try:
        yield
    finally:
        _SHARED.reset(token)


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
