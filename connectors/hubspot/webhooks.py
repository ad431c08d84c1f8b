"""HubSpot webhook requests: the v3 signature and the batched event array."""

import base64
import hashlib
import hmac
import json
import time

from connectors.base import VendorEvent
from connectors.errors import MalformedDelivery, SignatureRefused

MAX_AGE_MS = 5 * 60 * 1000
REQUIRED_FIELDS = ("eventId", "subscriptionType", "objectId", "occurredAt")
# HubSpot decodes these escapes, and only these, in the URI it signs.
DECODED_ESCAPES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def signing_uri(uri: str) -> str:
    """Return the URI the way HubSpot signs it, with its short list of escapes decoded."""
    for escape, char in DECODED_ESCAPES.items():
        uri = uri.replace(escape, char).replace(escape.lower(), char)
    return uri


def signature_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Return base64(HMAC-SHA256(secret, method + uri + body + timestamp))."""
    message = method.encode() + signing_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_check(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_ms: int | None = None,
) -> None:
    """Raise SignatureRefused unless the v3 signature is valid and under five minutes old."""
    if not secret:
        raise SignatureRefused("The hub has no HubSpot client secret configured.")
    if not signature or not timestamp:
        raise SignatureRefused("The request has no X-HubSpot-Signature-v3 or timestamp header.")
    try:
        sent_ms = int(timestamp)
    except ValueError as exc:
        raise SignatureRefused(f"The timestamp {timestamp[:40]!r} is not a number.") from exc
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - sent_ms) > MAX_AGE_MS:
        raise SignatureRefused("The request is more than five minutes old (or from the future).")
    expected = signature_v3(secret=secret, method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureRefused("The signature does not match the body.")


def delivery_key(event: dict) -> str:
    """Return a key that is the same for every retry of one event.

    HubSpot's eventId alone is not guaranteed unique, and retries differ only
    in attemptNumber, so the key is the event's content without that field.
    """
    stable = {k: v for k, v in event.items() if k != "attemptNumber"}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


def events_parse(body: bytes) -> list[VendorEvent]:
    """Parse HubSpot's batched event array, or raise MalformedDelivery."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedDelivery(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(data, list):
        raise MalformedDelivery("The body must be a JSON array of events.")
    events = []
    for position, event in enumerate(data):
        if not isinstance(event, dict):
            raise MalformedDelivery(f"Event {position} is not a JSON object.")
        missing = [name for name in REQUIRED_FIELDS if name not in event]
        if missing:
            raise MalformedDelivery(f"Event {position} lacks {', '.join(missing)}.")
        events.append(
            VendorEvent(
                delivery_key=delivery_key(event),
                event_type=str(event["subscriptionType"]),
                object_id=str(event["objectId"]),
                payload=event,
            )
        )
    return events
