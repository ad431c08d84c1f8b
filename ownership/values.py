"""When two systems' values of a field are the same: each kind of value has a normal form.

Formatting never counts as a difference ("0412 345 678" is "+61412345678", "51 824 753 556"
is "51824753556", case and spacing in names and addresses do not count); a value is still
written in the owner's own format.
"""

import re
from dataclasses import asdict
from datetime import date
from decimal import Decimal, InvalidOperation

from connectors.base import Address, PromisedLine, Value, unit_price
from integration_hub import labels

KINDS = ("text", "name", "email", "phone", "abn", "address", "money", "date", "status", "lines")


def _words(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+"):
        return digits
    if digits.startswith("0") and len(digits) == 10:  # an Australian number, written locally
        return "61" + digits[1:]
    return digits


def _money(value) -> Decimal | str:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return _words(value)


def _country(text: str) -> str:
    words = _words(text)
    return "au" if words in ("australia", "au", "aus") else words


def normal(kind: str, value: Value) -> object:
    """Return the value's normal form for comparing; every empty value is the same ''."""
    if value is None or value == "" or value == () or (isinstance(value, Address) and not value):
        return ""
    if kind == "address":
        address = value if isinstance(value, Address) else Address(street=str(value))
        parts = asdict(address) | {"country": _country(address.country)}
        return tuple(_words(part) for part in parts.values())
    if kind == "phone":
        return _phone(str(value))
    if kind == "abn":
        return re.sub(r"\D", "", str(value))
    if kind == "money":
        return _money(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    if kind == "lines":
        return tuple(
            (
                _words(line.description),
                line.quantity.normalize(),
                unit_price(line.unit_price),
                _words(line.item_code),
                line.tax,
            )
            for line in value
            if isinstance(line, PromisedLine)
        )
    return _words(str(value))


def same(kind: str, a: Value, b: Value) -> bool:
    """Return whether two values of this kind are the same once formatting is set aside."""
    return normal(kind, a) == normal(kind, b)


def empty(value: Value) -> bool:
    """Return whether the system holds nothing for the field."""
    return normal("text", value) == "" if not isinstance(value, Address) else not value


def shown(value: Value) -> str:
    """The value as a person reads it in a review item or a trail."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, Address):
        return value.line() or "(empty)"
    if isinstance(value, tuple):
        return "; ".join(line.text() for line in value) or "(no lines)"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def shown_as(record_type: str, field: str, value: Value) -> str:
    """The value of a record's field as a person reads it: a coded one (a status) in words."""
    return labels.value_label(record_type, field, shown(value))


def stored(value: Value) -> object:
    """The value as JSON, for review items' details and the agreed values the engine keeps."""
    if isinstance(value, Address):
        return {"address": asdict(value)}
    if isinstance(value, tuple):
        return {"lines": [{k: str(v) for k, v in asdict(line).items()} for line in value]}
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def loaded(data: object) -> Value:
    """The value `stored` wrote, back as the hub's value."""
    if isinstance(data, dict) and "address" in data:
        return Address(**data["address"])
    if isinstance(data, dict) and "lines" in data:
        return tuple(
            PromisedLine(
                description=line["description"],
                quantity=Decimal(line["quantity"]),
                unit_price=Decimal(line["unit_price"]),
                item_code=line["item_code"],
                tax=line.get("tax", "gst"),  # kept before lines had their tax
                discount=Decimal(line.get("discount", "0")),
            )
            for line in data["lines"]
        )
    return data  # type: ignore[return-value]
