"""Webhook delivery from a sandbox to the hub: events batched, POSTed, retried with backoff.

Both vendors deliver this way; each sandbox says how a batch is signed and shaped.
"""

import threading
import time
import urllib.error
import urllib.request
from collections import deque
from datetime import UTC, datetime


class BatchSender:
    """Collects events and POSTs them in batches from a background thread."""

    def __init__(
        self,
        *,
        webhook_url: str,
        name: str,
        max_attempts: int = 5,
        first_backoff: float = 0.5,
        batch_window: float = 0.2,
        max_batch: int = 100,
    ) -> None:
        self.webhook_url = webhook_url
        self.max_attempts, self.first_backoff = max_attempts, first_backoff
        self.batch_window, self.max_batch = batch_window, max_batch
        self.pending: list[dict] = []
        self.log: deque[dict] = deque(maxlen=200)
        self.wake = threading.Condition()
        self.running = True
        self.busy = False
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    # What each vendor defines ---------------------------------------------------------

    def request(self, batch: list[dict], attempt: int) -> tuple[bytes, dict]:
        """Return the body and headers for delivering the batch on this attempt."""
        raise NotImplementedError

    def types(self, batch: list[dict]) -> list[str]:
        """Return the event types in the batch, for the delivery log."""
        raise NotImplementedError

    # The delivery loop --------------------------------------------------------------------

    def queue(self, event: dict) -> None:
        with self.wake:
            self.pending.append(event)
            self.wake.notify()

    def _loop(self) -> None:
        while self.running:
            with self.wake:
                while self.running and not self.pending:
                    self.wake.wait()
                self.busy = True
            time.sleep(self.batch_window)
            with self.wake:
                batch = self.pending[: self.max_batch]
                self.pending = self.pending[self.max_batch :]
                self.busy = bool(batch)
            if batch:
                self._deliver(batch)
            with self.wake:
                self.busy = False
                self.wake.notify_all()

    def _deliver(self, batch: list[dict]) -> None:
        """POST one batch, retrying with backoff on any failure."""
        for attempt in range(self.max_attempts):
            if self.webhook_url:
                status = self._post(*self.request(batch, attempt))
            else:
                status = "no webhook URL: logged only"
            self.log.appendleft(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "events": len(batch),
                    "attempt": attempt,
                    "status": status,
                    "types": sorted(set(self.types(batch))),
                }
            )
            delivered = isinstance(status, int) and 200 <= status < 300
            if delivered or not self.webhook_url or not self.running:
                return
            time.sleep(min(self.first_backoff * 2**attempt, 5.0))

    def _post(self, body: bytes, headers: dict) -> int | str:
        request = urllib.request.Request(
            self.webhook_url, data=body, method="POST", headers=headers
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
