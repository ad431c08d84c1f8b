"""Xero failures turned into the hub's typed errors, with plain words and the fix."""

import json
import re

import urllib3

from connectors.errors import AuthExpired, Invalid, NotFound, RateLimited, Transient
from connectors.xero.limits import DEFAULT_PAUSE, LIMIT_NAMES

SYSTEM = "xero"


def _body(exc) -> str:
    body = getattr(exc, "body", "") or ""
    return body.decode() if isinstance(body, bytes) else str(body)


def translate(exc: Exception, *, what: str) -> Exception:
    """Return the hub's error for a xero-python exception raised while doing `what`."""
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return Transient(
            f"Xero could not be reached while {what}.", system=SYSTEM, detail=repr(exc)
        )
    status = getattr(getattr(exc, "http_resp", None), "status", None) or getattr(
        exc, "status", None
    )
    if not isinstance(status, int):
        return exc
    headers = getattr(exc, "headers", None) or {}
    detail = f"HTTP {status}\n{_body(exc)}"
    if status in (401, 403):
        return AuthExpired(
            f"Xero refused the hub's connection while {what}.",
            system=SYSTEM,
            fix="An admin reconnects Xero from the hub's settings page.",
            detail=detail,
            code="reconnect",
        )
    if status == 429:
        problem = str(headers.get("X-Rate-Limit-Problem") or "minute").lower()
        retry_after = float(headers.get("Retry-After") or DEFAULT_PAUSE.get(problem, 60.0))
        return RateLimited(
            f"Xero asked the hub to slow down (its {LIMIT_NAMES.get(problem, problem)} limit) "
            f"while {what}.",
            system=SYSTEM,
            retry_after=retry_after,
            detail=detail,
        )
    if status == 404:
        return NotFound(f"Xero has no such record ({what}).", system=SYSTEM, detail=detail)
    if status >= 500:
        return Transient(f"Xero failed while {what} (HTTP {status}).", system=SYSTEM, detail=detail)
    return Invalid(
        f"Xero refused {what}: {_messages(_body(exc)) or 'a validation error'}.",
        system=SYSTEM,
        detail=detail,
        fix="Correct the record named in the message, then press Retry.",
    )


def _messages(body: str) -> str:
    """Return the ValidationErrors messages in a Xero error body."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    found = [
        e["Message"] for el in data.get("Elements", []) for e in el.get("ValidationErrors", [])
    ]
    return "; ".join(found) or data.get("Message", "")


# Xero's validation messages, the hub's name for each, and what a person does about it.
REFUSALS = (
    (
        re.compile(r"Item code '[^']+' is not valid"),
        "unknown_item_code",
        "Choose the Xero item code to use instead and press 'Use this item code', or add the "
        "item in Xero and press Retry.",
    ),
    (
        re.compile(r"TaxType code '[^']+' (does not exist|cannot be used)", re.I),
        "invalid_tax_type",
        "Set tax types your Xero organisation has under 'How jobs are written on invoices' on "
        "the hub's Xero page (or fix the job line's GST treatment), then press Retry.",
    ),
    (
        re.compile(r"Account code '[^']+' (is not a valid code|has been archived)", re.I),
        "invalid_account",
        "Set a revenue account your Xero organisation has under 'How jobs are written on "
        "invoices' on the hub's Xero page, then press Retry.",
    ),
    (
        re.compile(r"tracking (category|option) '[^']+'", re.I),
        "tracking_option",
        "In Xero, add (or restore) the tracking category or option the message names "
        "(Accounting › Advanced › Tracking categories), or change the mapping under 'Tracking "
        "categories' on the hub's Xero page, then press Retry.",
    ),
    (
        re.compile(r"is archived", re.I),
        "archived_contact",
        "Restore the contact in Xero (Contacts → Archived → Restore), then press Retry.",
    ),
    (
        re.compile(r"already assigned to another contact", re.I),
        "contact_name_taken",
        "Xero needs unique contact names and numbers: rename one of them in Xero, or link the "
        "customer to the existing contact, then press Retry.",
    ),
    (
        re.compile(r"must be (supplied|specified)|is required", re.I),
        "missing_field",
        "Fill in the detail the message names (on the job or the customer), then press Retry.",
    ),
)


def refusal(messages: str) -> tuple[str, str]:
    """Return the hub's code and the fix for Xero's validation messages."""
    for pattern, code, fix in REFUSALS:
        if pattern.search(messages):
            return code, fix
    return "rejected", "Correct what Xero's message names, then press Retry."
