"""Storing a delivery: its new events only, committed before the answer, the dispatchers
woken. PostgreSQL stores it in one statement; the demo's SQLite through the ORM (which the
tests run here on PostgreSQL too)."""

import json
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from connectors.base import VendorEvent
from connectors.hubspot.webhooks import events_parse
from handoffs import dispatch
from handoffs.inbox import _delivery_store, inbound_events_store, polled_events_store
from handoffs.models import InboundEvent, WebhookDelivery
from tests.helpers import hubspot_event, hubspot_signed, other_connection

pytestmark = pytest.mark.django_db
WAYS = ["one statement", "orm"]


def store(way: str, events: list[VendorEvent]):
    if way == "one statement":
        return inbound_events_store(
            source="hubspot", events=events, headers={}, body=b"[]", remote_addr="127.0.0.1"
        )
    return _delivery_store(
        events=events, source="hubspot", headers={}, raw_body="[]", body_size=2, remote_addr=None
    )


def parsed(*deals: str) -> list[VendorEvent]:
    return events_parse(json.dumps([hubspot_event(d, event_id=int(d)) for d in deals]).encode())


@pytest.mark.parametrize("way", WAYS)
def test_an_event_repeated_within_one_batch_is_stored_once(way):
    [event] = parsed("11")
    stored = store(way, [event, event])
    assert (stored.new, stored.duplicate) == (1, 1)
    assert InboundEvent.objects.get().delivery_id == stored.delivery_id
    delivery = WebhookDelivery.objects.get()
    assert (delivery.outcome, delivery.events_new, delivery.events_duplicate) == (
        "accepted",
        1,
        1,
    )


@pytest.mark.parametrize("way", WAYS)
def test_a_delivery_sent_again_stores_nothing_and_is_recorded_as_a_duplicate(way):
    events = parsed("21", "22")
    first = store(way, events)
    again = store(way, events)
    assert (again.new, again.duplicate) == (0, 2)
    assert set(InboundEvent.objects.values_list("delivery_id", flat=True)) == {first.delivery_id}
    repeat = WebhookDelivery.objects.get(pk=again.delivery_id)
    assert (repeat.outcome, repeat.events_new, repeat.events_duplicate) == ("duplicate", 0, 2)


@pytest.mark.parametrize("way", WAYS)
def test_a_half_new_batch_stores_only_its_new_events(way):
    old, new = parsed("31", "32"), parsed("33", "34")
    first = store(way, old)
    second = store(way, [old[1], *new, old[0]])
    assert (second.new, second.duplicate) == (2, 2)
    by_delivery = dict(InboundEvent.objects.values_list("object_id", "delivery_id"))
    assert by_delivery == {
        "31": first.delivery_id,
        "32": first.delivery_id,
        "33": second.delivery_id,
        "34": second.delivery_id,
    }
    stored = InboundEvent.objects.get(object_id="33")
    assert (stored.state, stored.event_type, stored.payload["objectId"]) == (
        "pending",
        "deal.propertyChange",
        33,
    )
    assert WebhookDelivery.objects.get(pk=second.delivery_id).outcome == "accepted"


def signed_post(body: bytes):
    return Client().post(
        "/webhooks/hubspot/", body, content_type="application/json", headers=hubspot_signed(body)
    )


@pytest.mark.django_db(transaction=True)
def test_the_delivery_is_committed_before_the_200():
    body = json.dumps([hubspot_event("41", event_id=41), hubspot_event("42", event_id=42)])
    with other_connection(autocommit=True) as outside:
        response = signed_post(body.encode())
        assert (response.status_code, response.json()) == (200, {"stored": 2, "duplicates": 0})
        events = outside.execute(
            f"SELECT count(*) FROM {InboundEvent._meta.db_table} WHERE object_id IN ('41', '42')"
        ).fetchone()
        deliveries = outside.execute(
            f"SELECT events_new FROM {WebhookDelivery._meta.db_table}"
        ).fetchall()
    assert events == (2,)
    assert deliveries == [(2,)]


@pytest.mark.django_db(transaction=True)
def test_a_new_delivery_wakes_the_dispatchers(monkeypatch):
    monkeypatch.setattr(dispatch, "_notified_at", float("-inf"))
    with other_connection(autocommit=True) as listener:
        listener.execute(f"LISTEN {dispatch.CHANNEL}")
        response = signed_post(json.dumps([hubspot_event("51", event_id=51)]).encode())
        assert response.status_code == 200
        heard = [n.channel for n in listener.notifies(timeout=60, stop_after=1)]
    assert heard == [dispatch.CHANNEL]


def test_a_process_wakes_the_dispatchers_again_only_once_its_pause_is_over(monkeypatch):
    monkeypatch.setattr(dispatch, "_notified_at", float("-inf"))
    assert dispatch.notify_due()
    before = time.monotonic()
    dispatch.notify_sent()
    assert dispatch._notified_at >= before
    monkeypatch.setattr(dispatch, "_notified_at", time.monotonic() + 3600)
    assert not dispatch.notify_due()


def test_a_polled_batch_is_one_insert_and_stores_each_event_once():
    keys = [*"abcdefghij", "a"]
    batch = [VendorEvent(key, "job.imported", key, {"key": key}) for key in keys]
    with CaptureQueriesContext(connection) as queries:
        assert polled_events_store(source="operations", events=batch) == 10
    inserts = [q for q in queries if q["sql"].startswith("INSERT INTO handoffs_inboundevent")]
    assert len(inserts) == 1
    again = [VendorEvent(key, "job.imported", key, {"key": key}) for key in ("a", "k")]
    assert polled_events_store(source="operations", events=again) == 1
    assert InboundEvent.objects.count() == 11
