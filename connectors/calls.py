"""A record of the vendor calls made while a handoff attempt runs, secrets redacted."""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from integration_hub.faults import fault_point

_CALLS: ContextVar[list[dict] | None] = ContextVar("connector_calls", default=None)
SECRET = re.compile(
    r"(?i)(bearer\s+|(?:token|secret|password|authorization|api[_-]?key)['\"]?\s*[:=]\s*['\"]?)"
    r"[^\s'\",}]+"
)
MAX_TEXT = 500


def redact(text: str) -> str:
    """Return the text with tokens, secrets and passwords masked, and cut to a readable size."""
    text = SECRET.sub(lambda m: f"{m.group(1)}[redacted]", text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


@contextmanager
def calls_recorded() -> Iterator[list[dict]]:
    """Collect the calls connectors make inside this block."""
    calls: list[dict] = []
    token = _CALLS.set(calls)
    try:
        yield calls
    finally:
        _CALLS.reset(token)


@contextmanager
def call(system: str, operation: str, request: str) -> Iterator[dict]:
    """Time one vendor call; the caller fills in `response` (and `status` on failure).

    The fault-injection suite can kill the process just before the call and just after
    a successful answer (integration_hub/faults.py).
    """
    entry = {
        "system": system,
        "operation": operation,
        "request": redact(request),
        "status": "ok",
        "response": "",
    }
    fault_point(f"before_call:{system}:{operation}")
    started = time.monotonic()
    try:
        yield entry
    except Exception as error:
        cause = error.__cause__
        entry["status"] = getattr(cause, "status", None) or type(cause or error).__name__
        entry["response"] = getattr(error, "detail", "") or str(error)
        raise
    else:
        fault_point(f"after_call:{system}:{operation}")
    finally:
        entry["ms"] = round((time.monotonic() - started) * 1000)
        entry["response"] = redact(str(entry["response"]))
        calls = _CALLS.get()
        if calls is not None:
            calls.append(entry)
