"""The shared rate-limit counts (connectors/limits.py): windows, calls in flight, pauses."""

import threading
import time
import uuid

import pytest

from connectors import limits
from connectors.errors import RateLimited
from connectors.limits import Limits, RedisCounts, Window


def explain(problem: str, vendor: bool, what: str) -> str:
    return f"{'vendor' if vendor else 'hub'}:{problem}:{what}"


@pytest.fixture(params=["redis", "local"])
def store(request, settings):
    """Each test runs against Redis (every worker's count) and the per-process count."""
    if request.param == "local":
        settings.REDIS_URL = ""
    limits._counts.clear()
    yield request.param
    limits._counts.clear()


def vendor(**options) -> Limits:
    """A vendor with its own keys, so tests never share counts."""
    options.setdefault("windows", lambda: [Window("w", 2, 2.0)])
    return Limits(vendor=f"test-{uuid.uuid4().hex[:8]}", explain=explain, **options)


def refused(api: Limits, scope: str = "org") -> RateLimited:
    with pytest.raises(RateLimited) as held_back:
        with api.slot(scope, what="a call"):
            pass
    return held_back.value


def test_a_full_window_says_how_long_until_a_place_frees(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0)
    api = vendor(windows=lambda: [Window("minute", 2, 60)])
    for _ in range(2):
        with api.slot("org", what="reading"):
            pass
    error = refused(api)
    assert str(error) == "hub:minute:a call" and error.code == "paced"
    assert 59 < error.retry_after <= 60 + limits.MARGIN_SECONDS
    with api.slot("another org", what="reading"):  # each organisation has its own count
        pass


def test_a_call_counts_from_when_it_ended_not_from_when_it_was_let_through(store, monkeypatch):
    """The vendor counts a call when it arrives, which may be long after the hub let it go
    (a slow token refresh, a slow network): freeing its place by the start time let the
    next call through into a real 429."""
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0)
    monkeypatch.setattr(limits, "MARGIN_SECONDS", 0.1)
    api = vendor(windows=lambda: [Window("w", 2, 2.0)])
    started = time.monotonic()
    with api.slot("org", what="a slow call"):
        time.sleep(1.5)
    with api.slot("org", what="a quick call"):
        pass
    time.sleep(max(0, 2.3 - (time.monotonic() - started)))
    # Two seconds after the slow call started, but not after it ended: still counted.
    error = refused(api)
    assert time.monotonic() - started < 3.5, "the machine was too slow for this test's timing"
    assert 0 < error.retry_after <= 1.5


def test_every_worker_counts_by_redis_clock_not_its_own(settings, monkeypatch):
    """A worker whose clock runs a minute ahead must not drop calls the others made."""
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0)
    limits._counts.clear()
    api = vendor(windows=lambda: [Window("minute", 2, 60)])
    for _ in range(2):
        with api.slot("org", what="reading"):
            pass
    ahead = time.time() + 61
    monkeypatch.setattr(limits.time, "time", lambda: ahead)
    limits._counts[settings.REDIS_URL] = RedisCounts(settings.REDIS_URL)  # another process
    assert refused(api).code == "paced"


def test_when_the_vendor_counts_more_the_hub_counts_as_many(store, monkeypatch):
    """Calls the hub did not make (another copy of the app, a lost count) still use the
    vendor's budget: its `remaining` lowers the hub's count to match."""
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0)
    api = vendor(windows=lambda: [Window("minute", 60, 60)])
    with api.slot("org", what="reading") as answer:
        answer.remaining["minute"] = 2
    for _ in range(2):
        with api.slot("org", what="reading"):
            pass
    assert refused(api).code == "paced"


def test_a_pause_the_vendor_asks_for_stops_every_worker(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0)
    api = vendor(windows=lambda: [Window("minute", 60, 60)], shared_scopes=("app",))
    with api.slot("org", what="reading") as answer:
        answer.pauses.append(("", "minute", 30))
    error = refused(api)
    assert (str(error), error.code) == ("vendor:minute:a call", "rate_limited")
    assert 28 < error.retry_after <= 30
    with api.slot("another org", what="reading") as answer:  # not paused by the first
        answer.pauses.append(("app", "appminute", 20))
    assert str(refused(api, "a third org")) == "vendor:appminute:a call"


def test_a_short_wait_is_waited_out_rather_than_failed(store, monkeypatch):
    monkeypatch.setattr(limits, "MARGIN_SECONDS", 0.1)
    api = vendor(windows=lambda: [Window("w", 1, 0.5)])
    started = time.monotonic()
    for _ in range(3):
        with api.slot("org", what="reading"):
            pass
    assert time.monotonic() - started >= 1.0  # paced, twice, by about 0.6 s


def test_within_patience_a_wait_longer_than_a_handoffs_is_waited_out(store, monkeypatch):
    """Long batch work (the nightly check) waits for its place where a handoff would raise
    and be tried again later; outside the block the same wait raises again."""
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0)
    monkeypatch.setattr(limits, "MARGIN_SECONDS", 0.1)
    api = vendor(windows=lambda: [Window("w", 1, 1.0)])
    with api.slot("org", what="reading"):
        pass
    refused(api)
    started = time.monotonic()
    with limits.patience(30), api.slot("org", what="reading again"):
        pass
    assert 0 < time.monotonic() - started < 30
    refused(api)


def test_no_more_than_the_concurrent_limit_are_in_flight_at_once(store, monkeypatch):
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 0.5)
    api = vendor(windows=lambda: [Window("minute", 60, 60)], concurrent=lambda: 2)
    release, entered = threading.Event(), []

    def hold() -> None:
        with api.slot("org", what="a slow call"):
            entered.append(1)
            release.wait(5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    while len(entered) < 2:
        time.sleep(0.01)
    error = refused(api)
    assert (str(error), error.retry_after) == ("hub:concurrent:a call", 0.5)
    release.set()
    for thread in holders:
        thread.join()
    with api.slot("org", what="a call after the others ended"):
        pass
