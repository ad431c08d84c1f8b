"""What Xero's settings say (tax rates, accounts, tracking categories), kept a few minutes
in the shared cache for every invoice of every worker, per organisation."""

from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

from django.core.cache import cache

from connectors.xero.accounting import XeroAccounting

CACHE_SECONDS = 600
T = TypeVar("T")
K = TypeVar("K")


def cache_key(what: str, tenant_id: str) -> str:
    return f"xero:{what}:{tenant_id}"


def organisation_setting(
    xero: XeroAccounting, what: str, read: Callable[[XeroAccounting], T], *, fresh: bool = False
) -> T:
    """The organisation's `what`, from the cache unless `fresh` (then read from Xero, and
    the cache learns it). A cache that is down or cannot be written is only slower."""
    key = cache_key(what, xero.connection.tenant_id)
    if not fresh:
        with suppress(Exception):
            if (kept := cache.get(key)) is not None:
                return kept
    found = read(xero)
    with suppress(Exception):
        cache.set(key, found, CACHE_SECONDS)
    return found


def checked_against(
    xero: XeroAccounting,
    what: str,
    read: Callable[[XeroAccounting], T],
    check: Callable[[T], dict[K, list]],
) -> dict[K, list]:
    """`check` (problems by key) against the organisation's `what` from the cache; a problem
    seen there is looked at again in what Xero says now before it is believed (someone may
    have just fixed it in Xero)."""
    found = check(organisation_setting(xero, what, read))
    if any(found.values()):
        found = check(organisation_setting(xero, what, read, fresh=True))
    return found
