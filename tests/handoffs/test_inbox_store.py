"""The inbox stores each event once, in a couple of statements for a whole batch."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.base import VendorEvent
from handoffs.inbox import polled_events_store
from handoffs.models import InboundEvent

pytestmark = pytest.mark.django_db


def events(*keys: str) -> list[VendorEvent]:
    return [VendorEvent(key, "job.imported", key, {"key": key}) for key in keys]


def test_a_batch_is_stored_in_a_few_statements_and_each_event_once():
    with CaptureQueriesContext(connection) as queries:
        assert polled_events_store(source="operations", events=events(*"abcdefghij", "a")) == 10
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "handoffs_inboundevent"')]
    assert len(inserts) == 1
    assert polled_events_store(source="operations", events=events("a", "k")) == 1
    assert InboundEvent.objects.count() == 11


def test_events_stored_meanwhile_by_another_delivery_are_left_out(monkeypatch):
    polled_events_store(source="operations", events=events("a"))
    # Another delivery stores "a" between this one's look and its insert.
    monkeypatch.setattr("handoffs.inbox._keys_stored", lambda source, keys: set())
    assert polled_events_store(source="operations", events=events("a", "b")) == 1
    assert sorted(InboundEvent.objects.values_list("delivery_key", flat=True)) == ["a", "b"]
