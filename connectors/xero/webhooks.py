"""Xero webhook requests: the x-xero-signature check and the events envelope."""

import base64
import hashlib
import hmac
import json

from connectors.base import VendorEvent
from connectors.errors import MalformedDelivery, SignatureRefused


def signature(*, key: str, body: bytes) -> str:
    """Return base64(HMAC-SHA256(raw body, the webhook key used as text))."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def signature_check(*, key: str, body: bytes, sent: str | None) -> None:
    """Raise SignatureRefused unless `sent` is the body's signature (compared in constant time)."""
    if not key:
        raise SignatureRefused("The hub has no Xero webhook key configured.")
    if not sent:
        raise SignatureRefused("The request has no x-xero-signature header.")
    if not hmac.compare_digest(signature(key=key, body=body).encode(), sent.encode()):
        raise SignatureRefused("The signature does not match the body.")


def events_parse(body: bytes) -> list[VendorEvent]:
    """Parse Xero's {"events": [...], ...} envelope (an empty list is intent-to-receive)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedDelivery(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise MalformedDelivery("The body must be an object with an events list.")
    events = []
    for position, event in enumerate(data["events"]):
        missing = [
            k for k in ("resourceId", "eventCategory", "eventType", "tenantId") if k not in event
        ]
        if missing:
            raise MalformedDelivery(f"Event {position} lacks {', '.join(missing)}.")
        key = hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()
        events.append(
            VendorEvent(
                key,
                f"{event['eventCategory']}.{event['eventType']}",
                str(event["resourceId"]),
                event,
            )
        )
    return events
