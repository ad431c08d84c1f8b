"""Xero events in the hub's words: webhooks carry ids only (handoffs fetch the rest), polls more."""

from datetime import UTC, datetime
from decimal import Decimal

from connectors.base import BusinessEvent, CustomerDetails, JobPromise, PromisedLine

NOUNS = {
    "INVOICE": "invoice",
    "CONTACT": "xero_contact",
    "CREDITNOTE": "credit_note",
    # Xero sends no quote webhooks: these come from polling (handoffs/xero_poll.py).
    "QUOTE": "quote",
}


def business_event(payload: dict) -> BusinessEvent | None:
    """Return e.g. invoice.updated for an INVOICE UPDATE event, or None for other categories."""
    noun = NOUNS.get(str(payload.get("eventCategory", "")).upper())
    if noun is None:
        return None
    verb = {"CREATE": "created", "UPDATE": "updated"}.get(
        str(payload.get("eventType")).upper(), "changed"
    )
    data = {"tenant": payload.get("tenantId"), "event": moment(payload.get("eventDateUtc"))}
    # A polled event carries the record as the poll read it.
    data |= {k: payload[k] for k in ("invoice", "quote") if k in payload}
    return BusinessEvent(f"{noun}.{verb}", "xero", str(payload["resourceId"]), data)


def moment(stamp: str | None) -> str:
    """One spelling of a Xero time, so a change told by webhook and by poll is one change.

    Webhooks write "2026-11-29T04:51:29.965" (UTC, no zone); polls carry UpdatedDateUTC as
    "2026-11-29T04:51:29.965000+00:00".
    """
    if not stamp:
        return ""
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _address(contact) -> str:
    """The contact's street address (else its postal one) on one line."""
    addresses = sorted(contact.addresses or [], key=lambda a: code(a.address_type) != "STREET")
    for a in addresses:
        parts = [a.address_line1, a.address_line2, a.city, a.region, a.postal_code]
        line = ", ".join(p for p in parts if p)
        if line:
            return line
    return ""


def quote_promise(quote, contact) -> JobPromise:
    """Return what an accepted Xero quote promised, as a won deal would."""
    return JobPromise(
        origin_system="xero",
        origin_ref=quote.quote_id,
        title=quote.title or f"Quote {quote.quote_number}",
        customer=CustomerDetails(
            system="xero",
            external_id=contact.contact_id,
            name=contact.name,
            email=contact.email_address or "",
            address=_address(contact),
            tax_number="".join(ch for ch in contact.tax_number or "" if ch.isdigit()),
        ),
        amount=Decimal(str(quote.total or 0)),
        currency=code(quote.currency_code) or "AUD",
        lines=tuple(
            PromisedLine(
                description=line.description or line.item_code or "",
                quantity=Decimal(str(line.quantity or 1)),
                unit_price=Decimal(str(line.unit_amount or 0)),
                item_code=line.item_code or "",
            )
            for line in quote.line_items or []
        ),
        site_address=_address(contact),
        site_contact="",
        notes="\n".join(
            text
            for text in (f"Xero quote {quote.quote_number}", quote.summary, quote.terms)
            if text
        ),
    )


def code(value) -> str:
    """Return a Xero code as text: xero-python gives some as enums (QuoteStatusCodes.SENT)."""
    return str(getattr(value, "value", value) or "")


def billing_address(contact) -> str:
    """The street line of the contact's billing (POBOX) address, else of its street one."""
    addresses = sorted(contact.addresses or [], key=lambda a: code(a.address_type) != "POBOX")
    return next((a.address_line1 for a in addresses if a.address_line1), "") or ""


def billing_address_line(contact) -> str:
    """The billing address on one line, as the job register keeps it."""
    addresses = sorted(contact.addresses or [], key=lambda a: code(a.address_type) != "POBOX")
    for a in addresses:
        if a.address_line1:
            parts = [a.address_line1, a.city, a.region, a.postal_code]
            return ", ".join(part for part in parts if part)
    return ""


def customer_field(contact, field: str, *, carrier: str = "hubspot") -> str:
    """The value of a customer field Xero owns, as a carrier keeps it.

    HubSpot's `address` holds the street line; the register keeps the whole address.
    """
    if field == "billing_name":
        return contact.name or ""
    if field == "billing_address":
        return (
            billing_address_line(contact) if carrier == "operations" else billing_address(contact)
        )
    if field == "tax_number":
        return "".join(ch for ch in contact.tax_number or "" if ch.isdigit())
    raise KeyError(f"Xero holds no customer field '{field}'.")


def invoice_facts(invoice) -> dict:
    """The invoice fields this handoff uses, from a xero-python Invoice, as plain values."""
    paid_on = invoice.fully_paid_on_date or max(
        (p.date for p in invoice.payments or [] if p.date), default=None
    )
    return {
        "number": invoice.invoice_number or "",
        "type": code(invoice.type),
        "reference": invoice.reference or "",
        "status": code(invoice.status),
        "total": f"{Decimal(str(invoice.total or 0)):.2f}",
        "amount_paid": f"{Decimal(str(invoice.amount_paid or 0)):.2f}",
        "amount_due": f"{Decimal(str(invoice.amount_due or 0)):.2f}",
        "paid_on": paid_on.isoformat() if paid_on else "",
    }
