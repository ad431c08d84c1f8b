"""Which currencies the Xero organisation has enabled, checked before an invoice is sent.

Read in one call (GET /Currencies) and kept a few minutes in the shared cache, like the tax
setup; a currency missing from the cache is read again from Xero before it is believed
(someone may have just enabled it). An invoice goes in its job's currency with no rate:
Xero uses its own rate for the day, never one the hub makes up.
"""

from contextlib import suppress

from django.core.cache import cache

from connectors.errors import Invalid
from connectors.xero.accounting import XeroAccounting

CACHE_SECONDS = 600


def cache_key(tenant_id: str) -> str:
    return f"xero:currencies:{tenant_id}"


def currencies(xero: XeroAccounting, *, fresh: bool = False) -> set[str]:
    """The organisation's enabled currency codes, from the cache unless `fresh`."""
    key = cache_key(xero.connection.tenant_id)
    if not fresh:
        with suppress(Exception):  # the cache (Redis) is down: read Xero instead
            if (kept := cache.get(key)) is not None:
                return kept
    found = set(xero.currencies())
    with suppress(Exception):  # a cache that cannot be written is only slower
        cache.set(key, found, CACHE_SECONDS)
    return found


def currency_refusal(code: str, jobs: list[str], xero: XeroAccounting) -> Invalid:
    """The one item every invoice in a currency the organisation has not enabled waits on
    (one an organisation: another may have it enabled)."""
    organisation = xero.connection.tenant_name or "connected"
    listed = ", ".join(sorted(jobs))
    return Invalid(
        f"No invoice was sent: the job is priced in {code}, and the Xero organisation "
        f"{organisation} does not have {code} enabled, so Xero cannot take an invoice in it "
        f"(jobs waiting: {listed}). The hub does not invoice it in another currency.",
        system="xero",
        code="currency_not_enabled",
        title=f"Invoices in {code} wait: Xero does not have {code} enabled",
        root=f"xero:currency:{code}:{xero.connection.tenant_id}",
        fix=f"In Xero, add {code} under Settings → Currencies (it needs a plan with "
        "multi-currency), then press Retry: each invoice waiting on this item is sent once, "
        f"in {code}, at Xero's rate for the day.",
    )
