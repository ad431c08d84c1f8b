"""Xero contacts the hub's way: plain dataclasses in and out, many to a request.

What the flows hand to XeroAccounting's batched contact calls and get back; no
xero-python model leaves connectors/xero.
"""

from dataclasses import dataclass
from urllib.parse import quote_plus

from xero_python.accounting import Contact, Phone

from connectors.base import Address, abn_forms
from connectors.errors import Invalid
from connectors.xero.errors import refusal
from connectors.xero.mapping import billing_address, code

# The `where` of one GET, URL-encoded, stays under this: servers commonly refuse query
# strings over 2 KB, and Xero documents no larger limit.
WHERE_MAX_BYTES = 1800
# Xero takes about 50 elements in one request (its documented batch size).
CREATE_BATCH = 50
REASONS = ("same ABN", "same email", "same name")


@dataclass(frozen=True)
class CustomerQuery:
    """A customer to look for among Xero's contacts; `key` is the caller's name for it."""

    key: str
    name: str
    email: str = ""
    tax_number: str = ""


@dataclass(frozen=True)
class NewContact:
    """A contact for Xero to create; `key` is the caller's name for it."""

    key: str
    name: str
    contact_number: str
    email: str = ""
    phone: str = ""
    tax_number: str = ""
    address: Address | None = None  # the billing (POBOX) address


@dataclass(frozen=True)
class ContactMade:
    """What Xero did with one NewContact: its ContactID, or why it refused."""

    key: str
    contact_id: str = ""
    code: str = ""  # the hub's name for the refusal (connectors/xero/errors.py)
    message: str = ""
    fix: str = ""

    @property
    def refused(self) -> bool:
        return not self.contact_id

    def error(self) -> Invalid:
        """The refusal as the hub's typed error, for a review item."""
        return Invalid(self.message, system="xero", code=self.code, fix=self.fix)


@dataclass(frozen=True)
class Sought:
    """What one search of the contacts found: the hub's numbers' contacts (ContactNumber ->
    ContactID), each customer's possible contacts (by its key, as `candidates` says) and
    the xero-python contacts read (by ContactID), for their details."""

    by_number: dict[str, str]
    candidates: dict[str, list[dict]]
    contacts: dict


def quoted(value: str) -> str | None:
    """The value as a string in a `where` clause; None when it cannot be written safely.

    Xero documents no escape for a double quote inside a string, so such values are not
    searched for (creating the contact then meets Xero's own duplicate-name check).
    """
    value = (value or "").strip()
    return f'"{value}"' if value and '"' not in value and "\\" not in value else None


def customer_clauses(customer: CustomerQuery) -> list[str]:
    """The equality tests that find this customer's possible contacts."""
    tests = [("TaxNumber", form) for form in abn_forms(customer.tax_number)]
    tests += [("EmailAddress", customer.email), ("Name", customer.name)]
    return [f"{field}=={text}" for field, value in tests if (text := quoted(value))]


def where_chunks(clauses: list[list[str]]) -> list[str]:
    """OR-join each item's clauses into as few `where` values as fit a URL.

    An item's clauses stay in one value; a value never goes over WHERE_MAX_BYTES encoded
    unless one item alone does.
    """
    chunks: list[list[str]] = []
    size = 0
    for item in (c for c in clauses if c):
        cost = len(quote_plus(" OR ".join(item))) + len(quote_plus(" OR "))
        if not chunks or size + cost > WHERE_MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1] += item
        size += cost
    return [" OR ".join(dict.fromkeys(chunk)) for chunk in chunks]


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().lower() == b.strip().lower()


def candidates(customer: CustomerQuery, contacts: list) -> list[dict]:
    """Return the ACTIVE contacts that may be this customer, with why: ABN, email, name."""
    digits = abn_forms(customer.tax_number)[:1]
    tests = {
        "same ABN": lambda c: bool(digits) and abn_forms(c.tax_number or "")[:1] == digits,
        "same email": lambda c: _same(c.email_address, customer.email),
        "same name": lambda c: _same(c.name, customer.name),
    }
    found: dict[str, dict] = {}
    for why in REASONS:
        for contact in contacts:
            if code(contact.contact_status) != "ACTIVE" or not tests[why](contact):
                continue
            entry = found.setdefault(
                contact.contact_id, {"id": contact.contact_id, "name": contact.name, "why": why}
            )
            if why not in entry["why"]:
                entry["why"] += f", {why}"
    return list(found.values())


def contact_model(new: NewContact) -> Contact:
    """The xero-python Contact for a NewContact, carrying email, phone and billing address."""
    address = new.address
    return Contact(
        name=new.name,
        contact_number=new.contact_number,
        email_address=new.email or None,
        tax_number=new.tax_number or None,
        phones=[Phone(phone_type="DEFAULT", phone_number=new.phone)] if new.phone else None,
        addresses=[billing_address(address)] if address else None,
    )


def contact_made(new: NewContact, answer) -> ContactMade:
    """Read Xero's answer for one element of a summarizeErrors=false request."""
    if not answer.has_validation_errors and answer.contact_id:
        return ContactMade(new.key, contact_id=answer.contact_id)
    messages = "; ".join(e.message for e in answer.validation_errors or []) or "no reason given"
    refused, fix = refusal(messages)
    return ContactMade(
        new.key,
        code=refused,
        message=f"Xero would not create the contact '{new.name}': {messages}",
        fix=fix,
    )
