"""The HubSpot inbox over real HTTP, with a real worker behind it."""

import json
import time

from django.conf import settings

from handoffs.models import HandoffRun, InboundEvent, WebhookDelivery
from tests.helpers import hubspot_event, post, signed_hubspot_post, wait_for


def deliveries(outcome: str) -> int:
    return WebhookDelivery.objects.filter(source="hubspot", outcome=outcome).count()


def an_open_deal(hub) -> str:
    return next(
        d["id"]
        for d in hub.sandbox.store.list("deals")
        if d["properties"].get("dealstage") == "contractsent"
    )


def test_it_stores_a_signed_delivery_and_a_worker_processes_it(hub):
    deal_id = an_open_deal(hub)
    body = json.dumps([hubspot_event(deal_id, stage="qualifiedtobuy")]).encode()
    status, answer = signed_hubspot_post(
        hub.hubspot_webhook_url, body, secret=settings.HUBSPOT_CLIENT_SECRET
    )
    assert (status, answer) == (200, {"stored": 1, "duplicates": 0})
    event = InboundEvent.objects.get(source="hubspot", object_id=deal_id)
    assert event.delivery.raw_body == body.decode()
    assert event.delivery.headers["X-Hubspot-Signature-V3"]
    run = wait_for(
        lambda: HandoffRun.objects.filter(key__contains=deal_id, state="skipped").first(),
        what="the worker to process the event",
    )
    assert "not a won stage" in run.summary


def test_it_stores_nothing_new_for_a_repeated_delivery(hub):
    deal_id = an_open_deal(hub)
    event = hubspot_event(deal_id, stage="qualifiedtobuy")
    first = json.dumps([event]).encode()
    retried = json.dumps([event | {"attemptNumber": 1}]).encode()
    secret = settings.HUBSPOT_CLIENT_SECRET
    assert signed_hubspot_post(hub.hubspot_webhook_url, first, secret=secret)[0] == 200
    status, answer = signed_hubspot_post(hub.hubspot_webhook_url, retried, secret=secret)
    assert (status, answer) == (200, {"stored": 0, "duplicates": 1})
    assert deliveries("duplicate") == 1
    wait_for(lambda: HandoffRun.objects.filter(state="skipped").exists(), what="the run")
    assert InboundEvent.objects.count() == 1
    assert HandoffRun.objects.count() == 1


def test_it_refuses_a_bad_signature_with_401_and_records_the_refusal(hub):
    body = json.dumps([hubspot_event(an_open_deal(hub))]).encode()
    status, answer = signed_hubspot_post(hub.hubspot_webhook_url, body, secret="not-the-secret")
    assert status == 401
    assert "does not match" in answer["error"]
    refusal = WebhookDelivery.objects.get(outcome="refused")
    assert refusal.status_code == 401
    assert refusal.raw_body == body.decode()
    assert not InboundEvent.objects.exists()


def test_it_refuses_a_missing_signature_with_401(hub):
    body = json.dumps([hubspot_event(an_open_deal(hub))]).encode()
    status, _ = post(hub.hubspot_webhook_url, body, {"Content-Type": "application/json"})
    assert status == 401
    assert deliveries("refused") == 1
    assert not InboundEvent.objects.exists()


def test_it_refuses_a_correctly_signed_request_older_than_five_minutes(hub):
    body = json.dumps([hubspot_event(an_open_deal(hub))]).encode()
    stale = int(time.time() * 1000) - 6 * 60 * 1000
    status, answer = signed_hubspot_post(
        hub.hubspot_webhook_url, body, secret=settings.HUBSPOT_CLIENT_SECRET, timestamp_ms=stale
    )
    assert status == 401
    assert "five minutes" in answer["error"]
    assert not InboundEvent.objects.exists()


def test_it_answers_400_to_a_signed_malformed_body(hub):
    status, answer = signed_hubspot_post(
        hub.hubspot_webhook_url, b'[{"eventId": 1', secret=settings.HUBSPOT_CLIENT_SECRET
    )
    assert status == 400
    assert "not valid JSON" in answer["error"]
    assert deliveries("malformed") == 1
    assert not InboundEvent.objects.exists()


def test_it_answers_413_to_a_body_over_one_megabyte(hub):
    event = hubspot_event(an_open_deal(hub)) | {"padding": "x" * (1024 * 1024)}
    status, _ = signed_hubspot_post(
        hub.hubspot_webhook_url, json.dumps([event]).encode(), secret=settings.HUBSPOT_CLIENT_SECRET
    )
    assert status == 413
    refusal = WebhookDelivery.objects.get(outcome="too_large")
    assert refusal.body_size == 0  # refused on Content-Length, before reading the body
    assert not InboundEvent.objects.exists()


def test_it_stores_an_event_no_handoff_listens_to_and_says_so(hub):
    event = hubspot_event(an_open_deal(hub)) | {"subscriptionType": "ticket.creation"}
    status, _ = signed_hubspot_post(
        hub.hubspot_webhook_url,
        json.dumps([event]).encode(),
        secret=settings.HUBSPOT_CLIENT_SECRET,
    )
    assert status == 200
    stored = wait_for(
        lambda: InboundEvent.objects.filter(state="ignored").first(), what="the event processed"
    )
    assert stored.note == "No handoff listens to “ticket.creation”."
