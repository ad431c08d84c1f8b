"""Retry delays: exponential with jitter, never shorter than Retry-After, never over the cap."""

from handoffs.runs import backoff_seconds


def test_it_grows_exponentially_with_jitter(settings):
    settings.HANDOFF_BASE_BACKOFF_SECONDS = 10
    settings.HANDOFF_MAX_BACKOFF_SECONDS = 900
    delays = {attempt: backoff_seconds(attempt=attempt) for attempt in (1, 2, 3, 4)}
    for attempt, delay in delays.items():
        ceiling = 10 * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(backoff_seconds(attempt=4), 6) for _ in range(20)}) > 1


def test_it_waits_at_least_as_long_as_retry_after(settings):
    settings.HANDOFF_BASE_BACKOFF_SECONDS = 1
    assert backoff_seconds(attempt=1, retry_after=42) == 42


def test_it_never_waits_longer_than_the_cap(settings):
    settings.HANDOFF_BASE_BACKOFF_SECONDS = 10
    settings.HANDOFF_MAX_BACKOFF_SECONDS = 60
    assert backoff_seconds(attempt=20) <= 60
    assert backoff_seconds(attempt=1, retry_after=3600) == 60
