"""Signed v3 webhooks from the sandbox to the hub, batched and retried as HubSpot does."""

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from datetime import UTC, datetime

# The properties a HubSpot app typically subscribes to, per object.
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
    },
    "company": {"name", "address", "city", "state", "zip", "phone", "domain", "abn"},
    "contact": {"firstname", "lastname", "email", "phone"},
}
BATCH_WINDOW = 0.2
MAX_BATCH = 100


def sign_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Return HubSpot's v3 signature: base64(HMAC-SHA256(secret, method+uri+body+timestamp))."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class Sender:
    """Collects store changes and POSTs them to the hub in signed batches."""

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
        self.webhook_url = webhook_url
        self.client_secret = client_secret
        self.portal_id, self.app_id = portal_id, app_id
        self.max_attempts, self.first_backoff = max_attempts, first_backoff
        self.event_ids = itertools.count(1)
        self.pending: list[dict] = []
        self.log: deque[dict] = deque(maxlen=200)
        self.wake = threading.Condition()
        self.running = True
        self.busy = False
        self.thread = threading.Thread(target=self._loop, name="hubspot-webhooks", daemon=True)
        self.thread.start()

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
        if change["changeSource"] == "INTEGRATION":
            event["sourceId"] = str(self.app_id)
        with self.wake:
            self.pending.append(event)
            self.wake.notify()

    def _loop(self) -> None:
        while self.running:
            with self.wake:
                while self.running and not self.pending:
                    self.wake.wait()
                self.busy = True
            time.sleep(BATCH_WINDOW)
            with self.wake:
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                self.busy = bool(batch)
            if batch:
                self._deliver(batch)
            with self.wake:
                self.busy = False
                self.wake.notify_all()

    def _deliver(self, batch: list[dict]) -> None:
        """POST one batch, retrying with backoff on any failure, as HubSpot does."""
        for attempt in range(self.max_attempts):
            events = [dict(event, attemptNumber=attempt) for event in batch]
            status = self._post(events) if self.webhook_url else "no webhook URL: logged only"
            self.log.appendleft(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "events": len(events),
                    "attempt": attempt,
                    "status": status,
                    "types": sorted({e["subscriptionType"] for e in events}),
                }
            )
            delivered = isinstance(status, int) and 200 <= status < 300
            if delivered or not self.webhook_url or not self.running:
                return
            time.sleep(min(self.first_backoff * 2**attempt, 5.0))

    def _post(self, events: list[dict]) -> int | str:
        body = json.dumps(events).encode()
        timestamp = str(int(time.time() * 1000))
        signature = sign_v3(
            secret=self.client_secret,
            method="POST",
            uri=self.webhook_url,
            body=body,
            timestamp=timestamp,
        )
        request = urllib.request.Request(
            self.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-HubSpot-Signature-v3": signature,
                "X-HubSpot-Request-Timestamp": timestamp,
                "User-Agent": "HubSpot Webhooks",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError as error:
            return f"error: {error}"

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event has been delivered (or given up); True if so."""
        deadline = time.monotonic() + timeout
        with self.wake:
            while self.pending or self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.wake.wait(left)
        return True

    def stop(self) -> None:
        """End the delivery thread."""
        with self.wake:
            self.running = False
            self.wake.notify()
        self.thread.join(timeout=5)
