"""Xero webhooks: the published signature vectors, intent-to-receive, and stored events."""

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from connectors.errors import SignatureRefused
from connectors.xero.webhooks import signature, signature_check
from handoffs.inbox import inbound_event_process
from handoffs.models import InboundEvent, WebhookDelivery

# Copied from shared/specs/xero/webhook_signature_vectors.json (assembled for this project).
VECTORS = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "xero_webhook_signature_vectors.json").read_text()
)["vectors"]
REAL, RESERIALISED, EXAMPLE = VECTORS


def test_the_signatures_match_the_vectors():
    assert (
        signature(key=REAL["webhook_key"], body=REAL["raw_body"].encode())
        == REAL["expected_signature"]
    )
    assert (
        signature(key=EXAMPLE["webhook_key"], body=EXAMPLE["raw_body"].encode())
        == (EXAMPLE["expected_signature"])
    )


def test_the_mis_signed_probe_and_a_reserialised_body_are_refused():
    with pytest.raises(SignatureRefused):
        signature_check(
            key=REAL["webhook_key"],
            body=REAL["raw_body"].encode(),
            sent=REAL["header_sent_by_xero"],
        )
    with pytest.raises(SignatureRefused):
        signature_check(
            key=REAL["webhook_key"],
            body=RESERIALISED["raw_body"].encode(),
            sent=REAL["expected_signature"],
        )


@pytest.fixture
def xero_key(settings):
    settings.XERO_WEBHOOK_KEY = REAL["webhook_key"]


def post(body: str, sent: str):
    return Client().post(
        "/webhooks/xero/", data=body, content_type="application/json", HTTP_X_XERO_SIGNATURE=sent
    )


@pytest.mark.django_db
def test_intent_to_receive_passes_200_with_an_empty_body_and_401_for_the_probe(xero_key):
    good = post(REAL["raw_body"], REAL["expected_signature"])
    assert (good.status_code, good.content) == (200, b"")
    probe = post(REAL["raw_body"], REAL["header_sent_by_xero"])
    assert (probe.status_code, probe.content) == (401, b"")
    refusal = WebhookDelivery.objects.get(source="xero", outcome="refused")
    assert refusal.reason == "The signature does not match the body."
    assert not InboundEvent.objects.filter(source="xero").exists()


def xero_post_over_http(url: str, body: bytes, signature: str | None) -> tuple[int, bytes, float]:
    """POST as Xero's intent-to-receive check does; return the status, body and seconds taken."""
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-xero-signature"] = signature
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, content = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    return status, content, time.monotonic() - started


@pytest.mark.parametrize(
    ("vector", "sent", "expected"),
    [
        (REAL, REAL["expected_signature"], 200),
        (EXAMPLE, EXAMPLE["expected_signature"], 200),
        (REAL, REAL["header_sent_by_xero"], 401),  # the mis-signed probe Xero sent
        (EXAMPLE, REAL["expected_signature"], 401),  # another body's signature
        (EXAMPLE, None, 401),  # no signature at all
    ],
    ids=["real", "example", "probe", "other-body", "unsigned"],
)
def test_xeros_intent_to_receive_over_http_gets_empty_bodies_within_5_seconds(
    live_server, transactional_db, settings, vector, sent, expected
):
    settings.XERO_WEBHOOK_KEY = vector["webhook_key"]
    url = f"{live_server.url}/webhooks/xero/"
    status, content, seconds = xero_post_over_http(url, vector["raw_body"].encode(), sent)
    assert (status, content) == (expected, b"")
    assert seconds < 5


@pytest.mark.django_db
def test_a_signed_invoice_event_is_stored_once_and_normalised(xero_key):
    body = json.dumps(
        {
            "events": [
                {
                    "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/1",
                    "resourceId": "inv-1",
                    "eventDateUtc": "2026-11-25T04:00:00.000",
                    "eventType": "UPDATE",
                    "eventCategory": "INVOICE",
                    "tenantId": "t-1",
                    "tenantType": "ORGANISATION",
                }
            ],
            "firstEventSequence": 1,
            "lastEventSequence": 1,
            "entropy": "ABCDEFGHIJKLMNOPQRST",
        }
    )
    sent = signature(key=REAL["webhook_key"], body=body.encode())
    assert post(body, sent).status_code == 200
    assert post(body, sent).status_code == 200  # Xero retries: nothing new is stored
    event = InboundEvent.objects.get(source="xero")
    assert (event.event_type, event.object_id) == ("INVOICE.UPDATE", "inv-1")
    inbound_event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.note.endswith("(Shared fields kept to their owners)")
    run = event.runs.get()
    assert (run.record_ref, run.payload["tenant"]) == ("inv-1", "t-1")


@pytest.mark.django_db
def test_a_signed_but_malformed_body_gets_400_and_the_reason_is_in_the_inbox(xero_key):
    body = '{"events": [{"resourceId": "x"}]}'
    response = post(body, signature(key=REAL["webhook_key"], body=body.encode()))
    assert (response.status_code, response.content) == (400, b"")
    assert "lacks eventCategory" in WebhookDelivery.objects.get(outcome="malformed").reason


def test_a_change_told_by_webhook_and_by_poll_is_one_change():
    from connectors.xero.mapping import business_event

    told = {"eventCategory": "INVOICE", "eventType": "UPDATE", "resourceId": "i", "tenantId": "t"}
    by_webhook = business_event(told | {"eventDateUtc": "2026-11-29T04:51:29.965"})
    by_poll = business_event(told | {"eventDateUtc": "2026-11-29T04:51:29.965000+00:00"})
    assert by_webhook.data["event"] == by_poll.data["event"] == "2026-11-29T04:51:29.965Z"
