"""Refused webhook requests are kept in part, counted past a limit, and expire."""

import json
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone

from connectors.hubspot.webhooks import signature_v3
from connectors.xero.webhooks import signature
from handoffs.models import WebhookDelivery
from handoffs.tasks import expire_refusals
from integration_hub.celery import app
from tests.helpers import hubspot_event

pytestmark = pytest.mark.django_db
HUBSPOT = "/webhooks/hubspot/"
XERO = "/webhooks/xero/"


def send(url: str, body: bytes, address: str, **headers):
    return Client().post(url, body, content_type="application/json", REMOTE_ADDR=address, **headers)


def signed_hubspot(body: bytes, secret: str) -> dict:
    stamp = str(int(timezone.now().timestamp() * 1000))
    uri = f"http://testserver{HUBSPOT}"
    sent = signature_v3(secret=secret, method="POST", uri=uri, body=body, timestamp=stamp)
    return {"HTTP_X_HUBSPOT_SIGNATURE_V3": sent, "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": stamp}


def test_a_refusal_keeps_a_few_kib_of_body_and_only_the_headers_that_explain_it(settings):
    body = json.dumps([hubspot_event("1") | {"padding": "x" * 100_000}]).encode()
    headers = signed_hubspot(body, "not-the-secret") | {
        "HTTP_COOKIE": "sessionid=secret-session",
        "HTTP_AUTHORIZATION": "Bearer secret-token",
        "HTTP_USER_AGENT": "u" * 10_000,
        "HTTP_X_SOMETHING_ELSE": "not kept",
    }
    response = send(HUBSPOT, body, "203.0.113.1", **headers)
    assert response.status_code == 401 and "does not match" in response.json()["error"]
    refusal = WebhookDelivery.objects.get()
    assert (refusal.outcome, refusal.body_size) == ("refused", len(body))
    assert refusal.raw_body == body[: settings.WEBHOOK_REFUSED_BODY_BYTES].decode()
    assert len(refusal.raw_body) == 4096
    assert set(refusal.headers) == {
        "Content-Type",
        "Content-Length",
        "User-Agent",
        "X-Hubspot-Signature-V3",
        "X-Hubspot-Request-Timestamp",
    }
    assert len(refusal.headers["User-Agent"]) == 256


def kept_and_counted(address: str) -> tuple[int, int]:
    """Return the refusals kept row by row, and those only counted, for one address."""
    rows = WebhookDelivery.objects.filter(remote_addr=address)
    kept = rows.exclude(outcome__in=["suppressed", "accepted"]).count()
    return kept, sum(rows.filter(outcome="suppressed").values_list("suppressed", flat=True))


@pytest.mark.parametrize("shared", [True, False], ids=["Redis", "per process"])
def test_past_the_limit_refusals_from_one_address_are_counted_not_kept(settings, shared):
    settings.WEBHOOK_REFUSALS_PER_MINUTE = 3
    if not shared:  # no REDIS_URL: Django's cache, and so the count, is the process's own
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    body = json.dumps(
        {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "ABC"}
    ).encode()
    answers = {
        send(XERO, body, "198.51.100.7", HTTP_X_XERO_SIGNATURE="forged").status_code
        for _ in range(10)
    }
    assert answers == {401}  # every one is refused the same way, kept or not
    kept, counted = kept_and_counted("198.51.100.7")
    # Ten refusals in at most two minutes: at most three kept in each, the rest counted.
    assert (kept + counted, kept <= 6, counted >= 4) == (10, True, True)
    suppressed = WebhookDelivery.objects.filter(outcome="suppressed").first()
    assert (suppressed.source, suppressed.status_code, suppressed.raw_body) == ("xero", 401, "")
    assert "counted here, not kept" in suppressed.reason
    # Another address is not held back, and a genuine delivery from the flooding one is stored.
    assert send(HUBSPOT, b"[]", "198.51.100.8").status_code == 401
    assert kept_and_counted("198.51.100.8") == (1, 0)
    signed = signature(key=settings.XERO_WEBHOOK_KEY, body=body)
    good = send(XERO, body, "198.51.100.7", HTTP_X_XERO_SIGNATURE=signed)
    assert (good.status_code, good.content) == (200, b"")
    assert WebhookDelivery.objects.filter(remote_addr="198.51.100.7", outcome="accepted").exists()


def test_behind_the_proxy_refusals_are_counted_per_sender_not_per_proxy(settings):
    settings.BEHIND_PROXY, settings.WEBHOOK_REFUSALS_PER_MINUTE = True, 1
    for sender in ("203.0.113.5", "203.0.113.6", "not-an-address"):
        # The first entry is whatever the sender wrote; the last is what the proxy saw.
        send(HUBSPOT, b"[]", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.1, {sender}")
    assert kept_and_counted("203.0.113.5") == (1, 0)
    assert kept_and_counted("203.0.113.6") == (1, 0)
    assert kept_and_counted("10.0.0.1") == (1, 0)  # an unreadable header: the proxy's own


def test_the_count_is_kept_in_redis_where_every_web_process_sees_it(settings):
    settings.WEBHOOK_REFUSALS_PER_MINUTE = 1
    send(HUBSPOT, b"[]", "192.0.2.44")
    send(HUBSPOT, b"[]", "192.0.2.44")
    shared = redis.Redis.from_url(settings.REDIS_URL)
    counts = [int(shared.get(key)) for key in shared.scan_iter("*webhook-refusals:192.0.2.44:*")]
    assert sum(counts) == 2


def test_the_inbox_page_says_how_many_refusals_were_only_counted(settings, client, office_staff):
    settings.WEBHOOK_REFUSALS_PER_MINUTE = 1
    for _ in range(4):
        send(HUBSPOT, b"[]", "192.0.2.9")
    client.force_login(office_staff)
    page = client.get("/activity/").content.decode()
    assert "3 refused requests from 192.0.2.9 in the minute from" in page


def test_refused_rows_expire_after_the_configured_days_and_accepted_ones_stay(settings):
    settings.WEBHOOK_REFUSED_KEEP_DAYS = 7
    rows = {
        outcome: WebhookDelivery.objects.create(source="xero", outcome=outcome, status_code=401)
        for outcome in ("accepted", "duplicate", "refused", "malformed", "too_large", "suppressed")
    }
    recent = WebhookDelivery.objects.create(source="xero", outcome="refused", status_code=401)
    eight_days_ago = timezone.now() - timedelta(days=8)
    WebhookDelivery.objects.filter(pk__in=[r.pk for r in rows.values()]).update(
        received_at=eight_days_ago
    )
    assert expire_refusals() == 4
    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {rows["accepted"].pk, rows["duplicate"].pk, recent.pk}


def test_beat_runs_the_expiry(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if "refusals" in e["task"])
    assert app.tasks[entry["task"]].name == expire_refusals.name
