"""Signed Xero webhooks from the sandbox: CONTACT and INVOICE events, the real shape."""

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from datetime import UTC, datetime

from connectors.sandbox.delivery import BatchSender

RESOURCES = {"INVOICE": "Invoices", "CONTACT": "Contacts"}


class XeroSender(BatchSender):
    """Xero delivers ids and resourceUrls (never the record), signed with the webhook key."""

    def __init__(self, *, webhook_url: str, webhook_key: str, api_url: str, **options) -> None:
        self.webhook_key, self.api_url = webhook_key, api_url
        self.sequence = itertools.count(1)
        super().__init__(webhook_url=webhook_url, name="xero-webhooks", **options)

    def __call__(self, tenant_id: str, category: str, resource_id: str, kind: str) -> None:
        if category not in RESOURCES:
            return
        self.queue(
            {
                "resourceUrl": f"{self.api_url}/{RESOURCES[category]}/{resource_id}",
                "resourceId": resource_id,
                "eventDateUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "eventType": kind,
                "eventCategory": category,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "_sequence": next(self.sequence),
            }
        )

    def request(self, batch: list[dict], attempt: int) -> tuple[bytes, dict]:
        events = [{k: v for k, v in e.items() if k != "_sequence"} for e in batch]
        body = json.dumps(
            {
                "events": events,
                "firstEventSequence": batch[0]["_sequence"],
                "lastEventSequence": batch[-1]["_sequence"],
                "entropy": secrets.token_hex(10).upper(),
            }
        ).encode()
        digest = hmac.new(self.webhook_key.encode(), body, hashlib.sha256).digest()
        return body, {
            "Content-Type": "application/json",
            "x-xero-signature": base64.b64encode(digest).decode(),
        }

    def types(self, batch: list[dict]) -> list[str]:
        return [f"{e['eventCategory']} {e['eventType']}" for e in batch]
