"""Xero's rate limits per organisation, shared by every worker and process through Redis.

Xero allows each tenant 60 calls in any rolling minute, 5 at once and 5,000 a day. The
hub takes a slot before each call; when none is free it waits briefly or, for a longer
wait, raises RateLimited so the handoff is retried after that time instead of meeting 429.
Without REDIS_URL (the demo) the slots are counted per process.
"""

import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import redis
from django.conf import settings

from connectors.errors import RateLimited

# Claim a slot atomically: the rolling minute, the day and the calls in flight.
CLAIM = """
local now, lease = tonumber(ARGV[1]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - 60)
redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, now - lease)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  return {'minute', tostring(tonumber(oldest) + 60 - now)}
end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then
  return {'day', '0'}
end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
  return {'concurrent', '0.2'}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('EXPIRE', KEYS[1], 61)
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 90000)
redis.call('ZADD', KEYS[3], now, ARGV[5])
redis.call('EXPIRE', KEYS[3], lease)
return {'ok', '0'}
"""
# A call in flight longer than this is counted as ended (its worker died).
LEASE_SECONDS = 120
# Waits up to this long are spent waiting; longer ones become a retry of the handoff.
MAX_WAIT_SECONDS = 3.0


def _seconds_to_midnight_utc(now: float) -> float:
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return 86400 - (now - day.timestamp())


class RedisSlots:
    """Slots counted in Redis: one count for every worker on every machine."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.claim_script = self.client.register_script(CLAIM)

    def claim(self, tenant: str, member: str, now: float) -> tuple[str, float]:
        day = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d")
        keys = [f"xero:{tenant}:minute", f"xero:{tenant}:day:{day}", f"xero:{tenant}:inflight"]
        verdict, wait = self.claim_script(
            keys=keys,
            args=[
                now,
                settings.XERO_MINUTE_LIMIT,
                settings.XERO_DAY_LIMIT,
                settings.XERO_CONCURRENT_LIMIT,
                member,
                LEASE_SECONDS,
            ],
        )
        return verdict.decode(), float(wait)

    def release(self, tenant: str, member: str) -> None:
        self.client.zrem(f"xero:{tenant}:inflight", member)


class LocalSlots:
    """The same counts inside one process, for running without Redis."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.minute: dict[str, deque] = defaultdict(deque)
        self.day: dict[tuple[str, str], int] = defaultdict(int)
        self.inflight: dict[str, set] = defaultdict(set)

    def claim(self, tenant: str, member: str, now: float) -> tuple[str, float]:
        day = (tenant, datetime.fromtimestamp(now, UTC).strftime("%Y%m%d"))
        with self.lock:
            calls = self.minute[tenant]
            while calls and calls[0] <= now - 60:
                calls.popleft()
            if len(calls) >= settings.XERO_MINUTE_LIMIT:
                return "minute", calls[0] + 60 - now
            if self.day[day] >= settings.XERO_DAY_LIMIT:
                return "day", 0
            if len(self.inflight[tenant]) >= settings.XERO_CONCURRENT_LIMIT:
                return "concurrent", 0.2
            calls.append(now)
            self.day[day] += 1
            self.inflight[tenant].add(member)
            return "ok", 0

    def release(self, tenant: str, member: str) -> None:
        with self.lock:
            self.inflight[tenant].discard(member)


_slots: dict[str, RedisSlots | LocalSlots] = {}


def _store() -> RedisSlots | LocalSlots:
    url = settings.REDIS_URL
    if url not in _slots:
        _slots[url] = RedisSlots(url) if url else LocalSlots()
    return _slots[url]


@contextmanager
def slot(tenant: str, *, what: str) -> Iterator[None]:
    """Hold one of the tenant's call slots for the length of a call."""
    store, member = _store(), uuid.uuid4().hex
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while True:
        now = time.time()
        verdict, wait = store.claim(tenant, member, now)
        if verdict == "ok":
            break
        if verdict == "day":
            wait = _seconds_to_midnight_utc(now)
        if time.monotonic() + wait > deadline:
            raise RateLimited(
                f"The hub held back from Xero: the organisation's {verdict} limit is used up "
                f"(while {what}).",
                system="xero",
                retry_after=max(wait, 1.0),
            )
        time.sleep(max(wait, 0.05))
    try:
        yield
    finally:
        store.release(tenant, member)
