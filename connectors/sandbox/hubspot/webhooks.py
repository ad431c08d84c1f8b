"""Signed v3 webhooks from the sandbox to the hub, batched and retried as HubSpot does."""

import base64
import hashlib
import hmac
import itertools
import json
import time

from connectors.sandbox.delivery import BatchSender

# The properties the hub's HubSpot app subscribes to, per object: every one it reads or
# carries (README: "HubSpot app settings").
SUBSCRIBED = {
    "deal": {
        "dealstage",
        "amount",
        "dealname",
        "closedate",
        "description",
        "site_address",
        "pipeline",
        "job_number",
        "job_status",
        "job_scheduled_start",
        "invoice_number",
        "payment_status",
        "amount_paid",
        "amount_due",
        "last_payment_date",
    },
    "company": {
        "name",
        "address",
        "city",
        "state",
        "zip",
        "country",
        "phone",
        "domain",
        "abn",
        "description",
    },
    "contact": {"firstname", "lastname", "email", "phone"},
}


def sign_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Return HubSpot's v3 signature: base64(HMAC-SHA256(secret, method+uri+body+timestamp))."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class Sender(BatchSender):
    """Collects store changes and POSTs them to the hub in signed v3 batches."""

    def __init__(
        self,
        *,
        webhook_url: str,
        client_secret: str,
        portal_id: int,
        app_id: int,
        max_attempts: int = 5,
        first_backoff: float = 0.5,
    ) -> None:
        self.client_secret = client_secret
        self.portal_id, self.app_id = portal_id, app_id
        self.event_ids = itertools.count(1)
        super().__init__(
            webhook_url=webhook_url,
            name="hubspot-webhooks",
            max_attempts=max_attempts,
            first_backoff=first_backoff,
        )

    def __call__(self, change: dict) -> None:
        """Take a change from the store; queue an event if the app subscribes to it."""
        kind, action = change["objectType"], change["action"]
        if kind not in SUBSCRIBED:
            return
        if action == "propertyChange" and change["propertyName"] not in SUBSCRIBED[kind]:
            return
        event = {
            "eventId": next(self.event_ids),
            "subscriptionId": 1000 + len(kind),
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": change["occurredAt"],
            "subscriptionType": f"{kind}.{change['action']}",
            "attemptNumber": 0,
            "objectId": change["objectId"],
            "changeSource": change["changeSource"],
        }
        if change["action"] == "propertyChange":
            event |= {
                "propertyName": change["propertyName"],
                "propertyValue": change["propertyValue"],
            }
        if change["action"] == "merge":
            event |= {k: change[k] for k in ("primaryObjectId", "mergedObjectIds", "newObjectId")}
        if change["changeSource"] == "INTEGRATION":
            event["sourceId"] = str(self.app_id)
        self.queue(event)

    def request(self, batch: list[dict], attempt: int) -> tuple[bytes, dict]:
        body = json.dumps([dict(event, attemptNumber=attempt) for event in batch]).encode()
        timestamp = str(int(time.time() * 1000))
        signature = sign_v3(
            secret=self.client_secret,
            method="POST",
            uri=self.webhook_url,
            body=body,
            timestamp=timestamp,
        )
        return body, {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": timestamp,
            "User-Agent": "HubSpot Webhooks",
        }

    def types(self, batch: list[dict]) -> list[str]:
        return [event["subscriptionType"] for event in batch]
