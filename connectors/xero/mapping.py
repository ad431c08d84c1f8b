"""Xero's shapes in the hub's words: events (ids only), contacts, invoices and quotes."""

from datetime import UTC, date, datetime
from decimal import Decimal

from xero_python.accounting import Address as XeroAddress
from xero_python.accounting import Phone

from connectors.base import (
    Address,
    BusinessEvent,
    CustomerDetails,
    InvoiceMade,
    JobPromise,
    PromisedLine,
    Tracking,
    Value,
)
from operations.addresses import suburb_state_postcode

NOUNS = {
    "INVOICE": "invoice",
    "CONTACT": "customer",
    "CREDITNOTE": "credit_note",
    # Xero sends no quote webhooks: these come from polling (connectors/xero/polling.py).
    "QUOTE": "quote",
}


def business_event(payload: dict) -> BusinessEvent | None:
    """Return e.g. invoice.updated for an INVOICE UPDATE event, or None for other categories.

    It says which record changed, never its values: the handoffs read it as it is then.
    """
    noun = NOUNS.get(str(payload.get("eventCategory", "")).upper())
    if noun is None:
        return None
    verb = {"CREATE": "created", "UPDATE": "updated"}.get(
        str(payload.get("eventType")).upper(), "changed"
    )
    data = {"tenant": payload.get("tenantId"), "event": moment(payload.get("eventDateUtc"))}
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


def code(value) -> str:
    """Return a Xero code as text: xero-python gives some as enums (QuoteStatusCodes.SENT)."""
    return str(getattr(value, "value", value) or "")


def contact_address(contact, *, prefer: str = "POBOX") -> Address:
    """The contact's billing (POBOX) address, else its street one, in the hub's parts."""
    addresses = sorted(contact.addresses or [], key=lambda a: code(a.address_type) != prefer)
    for a in addresses:
        street = ", ".join(p for p in (a.address_line1, a.address_line2) if p)
        found = Address(street, a.city or "", a.region or "", a.postal_code or "", a.country or "")
        if found:
            return found
    return Address()


def contact_phone(contact) -> str:
    """The contact's main (DEFAULT) phone on one line, as Xero shows it."""
    for phone in contact.phones or []:
        if code(phone.phone_type) == "DEFAULT":
            parts = (phone.phone_country_code, phone.phone_area_code, phone.phone_number)
            return " ".join(p for p in parts if p)
    return ""


def contact_values(contact) -> dict[str, Value]:
    """The shared customer fields a Xero contact holds."""
    person = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    return {
        "billing_name": contact.name or "",
        "billing_address": contact_address(contact),
        "tax_number": contact.tax_number or "",
        "contact_name": person,
        "email": contact.email_address or "",
        "phone": contact_phone(contact),
    }


def contact_details(contact) -> CustomerDetails:
    """The contact as the customer details matching compares."""
    values = contact_values(contact)
    return CustomerDetails(
        system="xero",
        external_id=contact.contact_id,
        name=str(values["billing_name"]),
        email=str(values["email"]),
        phone=str(values["phone"]),
        address=contact_address(contact),
        tax_number=str(values["tax_number"]),
        contact_name=str(values["contact_name"]),
    )


def billing_address(address: Address) -> XeroAddress:
    """The contact's POBOX address with the city, region and postcode each in its own field,
    also when the city was written 'Marrickville NSW 2204'."""
    city, region, postcode = address.city, address.region, address.postcode
    if not (region or postcode) and (split := suburb_state_postcode(city)):
        city, region, postcode = split
    return XeroAddress(
        address_type="POBOX",
        address_line1=address.street,
        city=city,
        region=region,
        postal_code=postcode,
        country=address.country,
    )


def contact_changes(values: dict[str, Value]) -> dict:
    """xero-python Contact arguments writing these shared fields."""
    changes: dict = {}
    for name, value in values.items():
        if name == "billing_name":
            changes["name"] = str(value or "")
        elif name == "billing_address":
            a = value if isinstance(value, Address) else Address(street=str(value or ""))
            changes["addresses"] = [billing_address(a)]
        elif name == "tax_number":
            changes["tax_number"] = str(value or "")
        elif name == "contact_name":
            first, _, last = str(value or "").partition(" ")
            changes |= {"first_name": first, "last_name": last}
        elif name == "email":
            changes["email_address"] = str(value or "")
        elif name == "phone":
            changes["phones"] = [Phone(phone_type="DEFAULT", phone_number=str(value or ""))]
    return changes


def quote_line_tax(line, treatments: dict[str, str]) -> str:
    """A quote line's tax treatment: the one whose tax type it uses (the invoice settings),
    else what its tax amount says (some tax: GST; none: GST-free)."""
    found = treatments.get(line.tax_type or "")
    if found:
        return found
    return "gst" if money(line.tax_amount) != 0 else "gst_free"


def quote_promise(quote, contact, treatments: dict[str, str]) -> JobPromise:
    """Return what an accepted Xero quote promised, as a won deal would; `treatments` says
    which treatment each tax type of the invoice settings stands for."""
    site = contact_address(contact, prefer="STREET")
    amounts = code(quote.line_amount_types).upper()
    return JobPromise(
        origin_system="xero",
        origin_ref=quote.quote_id,
        title=quote.title or f"Quote {quote.quote_number}",
        customer=contact_details(contact),
        amount=Decimal(str(quote.total or 0)),
        currency=code(quote.currency_code) or "AUD",
        lines=tuple(
            PromisedLine(
                description=line.description or line.item_code or "",
                quantity=Decimal(str(line.quantity or 1)),
                unit_price=Decimal(str(line.unit_amount or 0)),
                item_code=line.item_code or "",
                tax="none" if amounts == "NOTAX" else quote_line_tax(line, treatments),
                discount=Decimal(str(line.discount_rate or 0)),
            )
            for line in quote.line_items or []
        ),
        prices_include_gst=amounts == "INCLUSIVE",
        site_address=site.line(),
        site_contact="",
        notes="\n".join(
            text
            for text in (f"Xero quote {quote.quote_number}", quote.summary, quote.terms)
            if text
        ),
    )


def payment_status(invoice) -> str:
    """The invoice as the hub says it: draft, awaiting payment, part paid, paid, credited,
    voided... told from Xero's amounts, as Xero's PAID also means "credited in full"."""
    status = code(invoice.status)
    if status not in ("AUTHORISED", "PAID"):
        return status.lower()
    paid, credited = money(invoice.amount_paid), money(invoice.amount_credited)
    if money(invoice.amount_due) <= 0:
        return "credited" if credited > 0 and paid == 0 else "paid"
    return "part_paid" if paid > 0 else "awaiting_payment"


def amount_due(invoice) -> Decimal:
    """What is still owed: nothing on a voided or deleted invoice, whatever it says."""
    cancelled = code(invoice.status) in ("VOIDED", "DELETED")
    return Decimal("0.00") if cancelled else money(invoice.amount_due)


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def paid_on(invoice) -> date | None:
    """The day the invoice was paid in full, else the day of its last payment."""
    day = invoice.fully_paid_on_date or max(
        (p.date for p in invoice.payments or [] if p.date), default=None
    )
    return day.date() if isinstance(day, datetime) else day


def invoice_values(invoice) -> dict[str, Value]:
    """The shared invoice fields a Xero invoice holds."""
    return {
        "number": invoice.invoice_number or "",
        "status": payment_status(invoice),
        "total": money(invoice.total),
        "amount_paid": money(invoice.amount_paid),
        "amount_due": amount_due(invoice),
        "last_payment_date": paid_on(invoice),
    }


def invoice_made(invoice) -> InvoiceMade:
    """An invoice Xero made or holds, in the hub's words."""
    return InvoiceMade(
        reference=invoice.reference or "",
        invoice_id=invoice.invoice_id or "",
        number=invoice.invoice_number or "",
        status=payment_status(invoice),
        total=money(invoice.total),
        amount_paid=money(invoice.amount_paid),
        amount_due=amount_due(invoice),
        customer_name=(invoice.contact.name or "") if invoice.contact else "",
        subtotal=money(invoice.sub_total),
        tax=money(invoice.total_tax),
        currency=code(invoice.currency_code),
        lines_tracking=lines_tracking(invoice),
    )


def lines_tracking(invoice) -> tuple[frozenset[Tracking], ...]:
    """The tracking each of an invoice's lines holds in Xero."""
    return tuple(
        frozenset(Tracking(t.name or "", t.option or "") for t in line.tracking or [])
        for line in invoice.line_items or []
    )
