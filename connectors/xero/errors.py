"""Xero failures turned into the hub's typed errors, with plain words and the fix."""

import json

import urllib3

from connectors.errors import AuthExpired, Invalid, NotFound, RateLimited, Transient

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
        retry_after = float(headers.get("Retry-After") or 60)
        problem = headers.get("X-Rate-Limit-Problem", "minute")
        return RateLimited(
            f"Xero's {problem} limit was reached while {what}.",
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
