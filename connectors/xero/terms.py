"""When an invoice is due: the Xero contact's sales payment terms, else the hub's default.

The terms of contacts are cached (an hour, renewed whenever the hub reads the contact),
so a month-end batch reads each contact's terms once, many at a time.
"""

import calendar
from contextlib import suppress
from datetime import date, timedelta

from django.core.cache import cache

CACHE_SECONDS = 3600
NO_TERMS = "none"


def due_date(*, issued: date, day: int | None, kind: str | None, default_days: int) -> date:
    """Apply Xero's PaymentTerms types to the issue date."""

    def day_of(year: int, month: int, wanted: int) -> date:
        return date(year, month, min(max(wanted, 1), calendar.monthrange(year, month)[1]))

    next_year, next_month = (
        (issued.year + 1, 1) if issued.month == 12 else (issued.year, issued.month + 1)
    )
    if kind == "DAYSAFTERBILLDATE":
        return issued + timedelta(days=day or 0)
    if kind == "DAYSAFTERBILLMONTH":
        month_end = day_of(issued.year, issued.month, 31)
        return month_end + timedelta(days=day or 0)
    if kind == "OFCURRENTMONTH":
        return day_of(issued.year, issued.month, day or 1)
    if kind == "OFFOLLOWINGMONTH":
        return day_of(next_year, next_month, day or 1)
    return issued + timedelta(days=default_days)


def _key(contact_id: str) -> str:
    return f"xero:terms:{contact_id}"


def _terms_of(contact) -> str:
    sales = contact.payment_terms.sales if contact.payment_terms else None
    return f"{sales.day}:{getattr(sales.type, 'value', sales.type)}" if sales else NO_TERMS


def terms_remember(contacts: list) -> None:
    """Keep the sales terms of contacts just read (the freshest the hub has)."""
    with suppress(Exception):  # a cache that cannot be written is only slower
        cache.set_many({_key(c.contact_id): _terms_of(c) for c in contacts}, CACHE_SECONDS)


def terms_none(contact_ids: list[str]) -> None:
    """Keep that these contacts, just made by the hub, have no sales terms of their own."""
    with suppress(Exception):  # a cache that cannot be written is only slower
        cache.set_many({_key(cid): NO_TERMS for cid in contact_ids}, CACHE_SECONDS)


def terms_known(contact_ids: list[str]) -> set[str]:
    """Return those of these contacts whose terms the hub keeps (it read them lately)."""
    try:
        kept = cache.get_many([_key(cid) for cid in contact_ids])
    except Exception:  # a cache that cannot be read knows nothing
        return set()
    return {cid for cid in contact_ids if _key(cid) in kept}


def contacts_terms(
    xero, contact_ids: list[str], *, soon: list[str] = ()
) -> dict[str, tuple[int | None, str | None]]:
    """Return (day, type) of each contact's sales terms, reading the uncached ones at once.

    `soon` names contacts about to be needed (the next invoices waiting): uncached ones are
    read in the same calls, so a month-end rush reads each contact once, 100 at a time.
    """
    found = {cid: cache.get(_key(cid)) for cid in set(contact_ids)}
    missing = [cid for cid, terms in found.items() if terms is None]
    if missing:
        room = -len(missing) % 100  # what the last call of 100 ids has left
        ahead = [c for c in dict.fromkeys(soon) if c not in found and cache.get(_key(c)) is None]
        contacts = xero.contacts_by_id(missing + ahead[:room])
        terms_remember(contacts)
        for contact in contacts:
            if contact.contact_id in found:
                found[contact.contact_id] = _terms_of(contact)
    result = {}
    for cid, terms in found.items():
        if not terms or terms == NO_TERMS:
            result[cid] = (None, None)
        else:
            day, _, kind = terms.partition(":")
            result[cid] = (int(day), kind)
    return result
