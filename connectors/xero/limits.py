"""Xero's rate limits per organisation, shared by every worker (connectors/limits.py).

Xero allows each tenant 60 calls in a rolling minute, 5 at once and 5,000 in a rolling
day, and an app 10,000 calls a minute over all tenants. The hub takes a place before each
call and, after each answer, takes in what Xero reported: X-MinLimit-Remaining and
X-DayLimit-Remaining lower the hub's count to Xero's when Xero counts more, and a 429's
Retry-After (with X-Rate-Limit-Problem) pauses that tenant, or the whole app, for every
worker. So no worker calls into a 429 the hub knows of.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.conf import settings

from connectors.limits import Answer, Limits, Window

# How long to stay away when Xero gives no Retry-After (it sends none for `concurrent`).
DEFAULT_PAUSE = {"concurrent": 1.0, "minute": 60.0, "appminute": 60.0, "day": 3600.0}
LIMIT_NAMES = {
    "minute": "calls-a-minute",
    "day": "calls-a-day",
    "concurrent": "calls-at-once",
    "appminute": "app-wide calls-a-minute",
}


def _explain(problem: str, vendor: bool, what: str) -> str:
    name = LIMIT_NAMES.get(problem, problem)
    if vendor:
        return f"Xero asked the hub to slow down (its {name} limit) while {what}."
    return (
        f"The hub is pacing calls to Xero: the organisation's {name} limit is used up "
        f"for now (while {what})."
    )


XERO = Limits(
    vendor="xero",
    windows=lambda: [
        Window("minute", settings.XERO_MINUTE_LIMIT, 60),
        Window("day", settings.XERO_DAY_LIMIT, 86400),
    ],
    concurrent=lambda: settings.XERO_CONCURRENT_LIMIT,
    # Longer than any call can last (its timeout), so a live call is never counted as ended.
    lease=lambda: settings.XERO_TIMEOUT_SECONDS + 30,
    shared_scopes=("app",),
    explain=_explain,
)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


def answer_read(answer: Answer, headers: Mapping | None, status: int | None) -> None:
    """Take in what one of Xero's answers says about its limits."""
    said = {str(k).lower(): v for k, v in (headers or {}).items()}
    for window, header in (("minute", "x-minlimit-remaining"), ("day", "x-daylimit-remaining")):
        remaining = _number(said, header)
        if remaining is not None:
            answer.remaining[window] = int(remaining)
    if _number(said, "x-appminlimit-remaining") == 0:
        answer.pauses.append(("app", "appminute", DEFAULT_PAUSE["appminute"]))
    if status == 429:
        problem = str(said.get("x-rate-limit-problem") or "minute").lower()
        wait = _number(said, "retry-after") or DEFAULT_PAUSE.get(problem, 60.0)
        answer.pauses.append(("app" if problem == "appminute" else "", problem, wait))


@contextmanager
def slot(tenant: str, *, what: str) -> Iterator[Answer]:
    """Hold one of the tenant's places for the length of a call (see Limits.slot)."""
    with XERO.slot(tenant, what=what) as answer:
        yield answer
