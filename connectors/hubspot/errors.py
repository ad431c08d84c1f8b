"""HubSpot failures turned into the hub's typed errors, with plain words and the fix."""

import json

import urllib3

from connectors.errors import (
    AuthExpired,
    Invalid,
    NotFound,
    RateLimited,
    Transient,
)

SYSTEM = "hubspot"


def _vendor_message(body: str | bytes | None) -> str:
    """Return HubSpot's own message from an error body, when it has one."""
    try:
        return str(json.loads(body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        return ""


def _retry_after(headers) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: Exception, *, what: str) -> Exception:
    """Return the hub's error for an SDK exception raised while fetching `what`."""
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return Transient(
            f"HubSpot could not be reached while fetching {what}.",
            system=SYSTEM,
            fix="Nothing to do if it passes; the hub retries. If it lasts, check HubSpot's status.",
            detail=repr(exc),
        )
    status = getattr(exc, "status", None)
    # Each SDK package has its own ApiException (and subclasses such as
    # UnauthorizedException), so recognise them by ancestry, not by one class.
    if status is None or not any(k.__name__ == "ApiException" for k in type(exc).__mro__):
        return exc
    body = exc.body.decode() if isinstance(exc.body, bytes) else (exc.body or "")
    detail = f"HTTP {status} {exc.reason}\n{body}"
    vendor = _vendor_message(body)
    if status == 401:
        return AuthExpired(
            "HubSpot refused the hub's access token.",
            system=SYSTEM,
            fix="An admin reconnects HubSpot from the hub's HubSpot page (or renews "
            "HUBSPOT_ACCESS_TOKEN), then presses Retry.",
            detail=detail,
        )
    if status == 403:
        return AuthExpired(
            f"HubSpot does not allow the hub to read {what}: {vendor}",
            system=SYSTEM,
            fix="Give the HubSpot app the CRM read scopes for deals, companies, contacts and "
            "line items, then press Retry.",
            detail=detail,
            code="forbidden",
        )
    if status == 404:
        return NotFound(
            f"HubSpot has no {what}; it may have been deleted or merged.",
            system=SYSTEM,
            fix="Check the record in HubSpot. If it was merged, dismiss this item.",
            detail=detail,
        )
    if status == 429:
        return RateLimited(
            "HubSpot asked the hub to slow down.",
            system=SYSTEM,
            retry_after=_retry_after(exc.headers),
            detail=detail,
        )
    if status >= 500:
        return Transient(
            f"HubSpot failed while the hub fetched {what} (HTTP {status}).",
            system=SYSTEM,
            fix="Nothing to do if it passes; the hub retries. If it lasts, check HubSpot's status.",
            detail=detail,
        )
    return Invalid(
        f"HubSpot refused the request for {what}: {vendor or exc.reason}",
        system=SYSTEM,
        fix="Check the record in HubSpot, then press Retry.",
        detail=detail,
    )
