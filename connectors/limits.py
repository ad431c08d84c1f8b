"""Vendor rate limits shared by every worker and process: rolling windows, calls in flight,
and the pauses a vendor asks for. Each vendor's package says what its limits are.

The counts live in Redis (one count for every machine) and Redis's clock decides every
window, so workers whose clocks disagree still agree on the count. A call stays in the
windows from the moment it is let through until a margin after it ended: the vendor
counts it when it arrives, which can be a while after the hub let it go. Without
REDIS_URL (the demo) each process counts for itself.
"""

import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import redis
from django.conf import settings

from connectors.errors import RateLimited

# A call counts in the windows this long after it ended, so the hub never frees a place
# before the vendor (whose window starts when the call arrives) does.
MARGIN_SECONDS = 1.0
# Waits up to this long are spent waiting; longer ones become a retry of the handoff.
MAX_WAIT_SECONDS = 3.0
_PATIENCE: ContextVar[float] = ContextVar("limits_patience", default=0.0)
# How long a full set of calls in flight makes a caller wait before looking again.
CONCURRENT_WAIT_SECONDS = 0.2


@contextmanager
def patience(seconds: float) -> Iterator[None]:
    """Within this block a call waits up to `seconds` for a place instead of raising
    RateLimited: for long batch work (the nightly check, the first match) that has nothing
    better to do than wait, where a raise would throw away what it read."""
    token = _PATIENCE.set(seconds)
    try:
        yield
    finally:
        _PATIENCE.reset(token)


@dataclass(frozen=True)
class Window:
    """At most `limit` calls in any `seconds`."""

    name: str
    limit: int
    seconds: float


@dataclass(frozen=True)
class Verdict:
    """A caller's place: `go`, or how long to wait and whose limit it is."""

    go: bool
    problem: str = ""
    wait: float = 0.0
    # True when the vendor itself asked for the pause (a 429, or no calls left).
    vendor: bool = False


@dataclass
class Answer:
    """What the vendor said about its limits in one answer: fill in while holding a place."""

    remaining: dict[str, int] = field(default_factory=dict)  # window name -> calls left
    # (scope, problem, seconds): pause that scope (a tenant, or the whole app) for so long.
    pauses: list[tuple[str, str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Keys:
    """Where one scope's counts live."""

    pauses: list[str]
    windows: list[str]
    inflight: str


CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local pauses, windows = tonumber(ARGV[1]), tonumber(ARGV[2])
local member, margin, lease = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local concurrent = tonumber(ARGV[6])
for i = 1, pauses do
  local till = tonumber(redis.call('HGET', KEYS[i], 'until') or '0')
  if till > now then
    return {'vendor', redis.call('HGET', KEYS[i], 'problem'), tostring(till - now)}
  end
end
local inflight = KEYS[pauses + windows + 1]
redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
for w = 1, windows do
  local key, limit = KEYS[pauses + w], tonumber(ARGV[5 + 2 * w])
  local seconds = tonumber(ARGV[6 + 2 * w])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - seconds - margin)
  if redis.call('ZCARD', key) >= limit then
    local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
    return {'hub', ARGV[6 + 2 * windows + w], tostring(oldest + seconds + margin - now)}
  end
end
if concurrent > 0 and redis.call('ZCARD', inflight) >= concurrent then
  return {'hub', 'concurrent', ARGV[7 + 3 * windows]}
end
for w = 1, windows do
  local key, seconds = KEYS[pauses + w], tonumber(ARGV[6 + 2 * w])
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(seconds + margin + lease))
end
redis.call('ZADD', inflight, now + lease, member)
redis.call('EXPIRE', inflight, math.ceil(lease))
return {'go', '', '0'}
"""

# The call ended: restart its windows from now, then take in what the vendor reported.
RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local windows, pauses = tonumber(ARGV[1]), tonumber(ARGV[2])
local member, margin, lease = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREM', KEYS[windows + 1], member)
for w = 1, windows do
  local key, limit = KEYS[w], tonumber(ARGV[3 + 3 * w])
  local seconds, remaining = tonumber(ARGV[4 + 3 * w]), ARGV[5 + 3 * w]
  redis.call('ZADD', key, now, member)
  if remaining ~= '' then
    -- The vendor has counted more calls than the hub: count the difference, as made now.
    local extra = limit - redis.call('ZCARD', key) - tonumber(remaining)
    for i = 1, extra do
      redis.call('ZADD', key, now, member .. ':vendor:' .. i)
    end
  end
  redis.call('EXPIRE', key, math.ceil(seconds + margin + lease))
end
for p = 1, pauses do
  local key = KEYS[windows + 1 + p]
  local till = now + tonumber(ARGV[4 + 3 * windows + 2 * p])
  if till > tonumber(redis.call('HGET', key, 'until') or '0') then
    redis.call('HSET', key, 'until', tostring(till), 'problem', ARGV[5 + 3 * windows + 2 * p])
    redis.call('EXPIREAT', key, math.ceil(till) + 1)
  end
end
return 1
"""


class RedisCounts:
    """Counts in Redis: one count for every worker on every machine."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.claim_script = self.client.register_script(CLAIM)
        self.release_script = self.client.register_script(RELEASE)

    def claim(
        self, keys: Keys, windows: Sequence[Window], concurrent: int, member: str, lease: float
    ) -> Verdict:
        args: list = [len(keys.pauses), len(windows), member, MARGIN_SECONDS, lease, concurrent]
        for window in windows:
            args += [window.limit, window.seconds]
        args += [window.name for window in windows] + [CONCURRENT_WAIT_SECONDS]
        found, problem, wait = self.claim_script(
            keys=[*keys.pauses, *keys.windows, keys.inflight], args=args
        )
        found = found.decode()
        if found == "go":
            return Verdict(True)
        return Verdict(False, problem.decode(), float(wait), vendor=found == "vendor")

    def release(
        self,
        keys: Keys,
        windows: Sequence[Window],
        member: str,
        lease: float,
        answer: Answer,
        pause_keys: list[str],
    ) -> None:
        args: list = [len(windows), len(answer.pauses), member, MARGIN_SECONDS, lease]
        for window in windows:
            remaining = answer.remaining.get(window.name)
            args += [window.limit, window.seconds, "" if remaining is None else remaining]
        for _, problem, seconds in answer.pauses:
            args += [seconds, problem]
        self.release_script(keys=[*keys.windows, keys.inflight, *pause_keys], args=args)


class LocalCounts:
    """The same counts inside one process, for running without Redis."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.windows: dict[str, dict[str, float]] = defaultdict(dict)  # key -> member -> time
        self.inflight: dict[str, dict[str, float]] = defaultdict(dict)  # key -> member -> lease
        self.paused: dict[str, tuple[float, str]] = {}

    def claim(
        self, keys: Keys, windows: Sequence[Window], concurrent: int, member: str, lease: float
    ) -> Verdict:
        now = time.time()
        with self.lock:
            for key in keys.pauses:
                till, problem = self.paused.get(key, (0.0, ""))
                if till > now:
                    return Verdict(False, problem, till - now, vendor=True)
            inflight = self.inflight[keys.inflight]
            for gone in [m for m, until in inflight.items() if until <= now]:
                del inflight[gone]
            for key, window in zip(keys.windows, windows, strict=True):
                span = window.seconds + MARGIN_SECONDS
                calls = self.windows[key]
                for gone in [m for m, at in calls.items() if at <= now - span]:
                    del calls[gone]
                if len(calls) >= window.limit:
                    return Verdict(False, window.name, min(calls.values()) + span - now)
            if concurrent and len(inflight) >= concurrent:
                return Verdict(False, "concurrent", CONCURRENT_WAIT_SECONDS)
            for key in keys.windows:
                self.windows[key][member] = now
            inflight[member] = now + lease
            return Verdict(True)

    def release(
        self,
        keys: Keys,
        windows: Sequence[Window],
        member: str,
        lease: float,
        answer: Answer,
        pause_keys: list[str],
    ) -> None:
        now = time.time()
        with self.lock:
            self.inflight[keys.inflight].pop(member, None)
            for key, window in zip(keys.windows, windows, strict=True):
                calls = self.windows[key]
                calls[member] = now
                remaining = answer.remaining.get(window.name)
                if remaining is not None:
                    for i in range(window.limit - len(calls) - remaining):
                        calls[f"{member}:vendor:{i + 1}"] = now
            for key, (_, problem, seconds) in zip(pause_keys, answer.pauses, strict=True):
                if now + seconds > self.paused.get(key, (0.0, ""))[0]:
                    self.paused[key] = (now + seconds, problem)


_counts: dict[str, RedisCounts | LocalCounts] = {}


def _store() -> RedisCounts | LocalCounts:
    url = settings.REDIS_URL
    if url not in _counts:
        _counts[url] = RedisCounts(url) if url else LocalCounts()
    return _counts[url]


@dataclass(frozen=True)
class Limits:
    """One vendor's limits: its windows per scope, calls in flight, and how to name a wait."""

    vendor: str
    windows: Callable[[], list[Window]]
    concurrent: Callable[[], int] = lambda: 0
    # How long a call may be in flight before it is counted as ended (its worker died).
    lease: Callable[[], float] = lambda: 120.0
    # Scopes whose pause also stops this scope (Xero's app-wide minute limit: "app").
    shared_scopes: tuple[str, ...] = ()
    # What a wait means, in plain words: (problem, the vendor asked?) -> message.
    explain: Callable[[str, bool, str], str] = lambda problem, vendor, what: problem

    def keys(self, scope: str) -> Keys:
        prefix = f"limits:{self.vendor}"
        return Keys(
            pauses=[f"{prefix}:{s}:pause" for s in (scope, *self.shared_scopes)],
            windows=[f"{prefix}:{scope}:{w.name}" for w in self.windows()],
            inflight=f"{prefix}:{scope}:inflight",
        )

    @contextmanager
    def slot(self, scope: str, *, what: str) -> Iterator[Answer]:
        """Hold one of the scope's places for the length of a call; fill in the Answer.

        Waits briefly for a place (longer within `patience`); a longer wait raises
        RateLimited with the time until a place frees, so the work is tried again then
        instead of meeting the vendor's 429.
        """
        store, keys, windows = _store(), self.keys(scope), self.windows()
        member, lease = uuid.uuid4().hex, self.lease()
        deadline = time.monotonic() + max(MAX_WAIT_SECONDS, _PATIENCE.get())
        while True:
            verdict = store.claim(keys, windows, self.concurrent(), member, lease)
            if verdict.go:
                break
            if time.monotonic() + verdict.wait > deadline:
                raise RateLimited(
                    self.explain(verdict.problem, verdict.vendor, what),
                    system=self.vendor,
                    retry_after=max(verdict.wait, 0.5),
                    code="rate_limited" if verdict.vendor else "paced",
                )
            time.sleep(max(verdict.wait, 0.05))
        answer = Answer()
        try:
            yield answer
        finally:
            pause_keys = [
                f"limits:{self.vendor}:{pause_scope or scope}:pause"
                for pause_scope, _, _ in answer.pauses
            ]
            store.release(keys, windows, member, lease, answer, pause_keys)
