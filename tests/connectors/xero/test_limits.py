"""Xero's per-organisation limits are counted in Redis, so every worker process shares them."""

import threading
import time
import uuid

import pytest

from connectors.errors import RateLimited
from connectors.xero import limits


@pytest.fixture
def tenant(settings) -> str:
    settings.XERO_MINUTE_LIMIT, settings.XERO_CONCURRENT_LIMIT = 3, 2
    limits._slots.clear()
    return f"test-{uuid.uuid4()}"


def test_the_minute_limit_is_shared_and_a_long_wait_becomes_a_retry(tenant):
    assert isinstance(limits._store(), limits.RedisSlots)
    other_process = limits.RedisSlots(limits.settings.REDIS_URL)  # its own connection
    for _ in range(2):
        with limits.slot(tenant, what="reading items"):
            pass
    assert other_process.claim(tenant, "x", time.time()) == ("ok", 0.0)
    other_process.release(tenant, "x")
    with pytest.raises(RateLimited, match="minute limit is used up") as held_back:
        with limits.slot(tenant, what="reading items"):
            pass
    assert 55 < held_back.value.retry_after <= 60


def test_no_more_than_the_concurrent_limit_are_in_flight_at_once(tenant, monkeypatch):
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0.5)
    release = threading.Event()
    entered = []

    def hold() -> None:
        with limits.slot(tenant, what="a slow call"):
            entered.append(1)
            release.wait(5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    while len(entered) < 2:
        time.sleep(0.01)
    with pytest.raises(RateLimited, match="concurrent limit"):
        with limits.slot(tenant, what="a third call"):
            pass
    release.set()
    for thread in holders:
        thread.join()
    with limits.slot(tenant, what="a call after the others ended"):
        pass


def test_without_redis_the_slots_are_counted_in_the_process(tenant, settings):
    settings.REDIS_URL = ""
    for _ in range(3):
        with limits.slot(tenant, what="reading"):
            pass
    with pytest.raises(RateLimited):
        with limits.slot(tenant, what="reading"):
            pass
