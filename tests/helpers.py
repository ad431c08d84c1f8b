"""Small helpers shared by the tests."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.test import override_settings

from connectors.hubspot.webhooks import signature_v3


def poll(check: Callable[[], Any], *, timeout: float) -> Any:
    """Call `check` every 0.1 s until it returns something truthy or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    return None


def wait_for(check: Callable[[], Any], *, what: str, timeout: float = 120.0) -> Any:
    """Poll `check` until it returns something truthy; fail the test after `timeout` seconds.

    The deadline is generous on purpose: it only matters when the test fails, and the
    suite must pass on a busy machine.
    """
    result = poll(check, timeout=timeout)
    if not result:
        raise AssertionError(f"Gave up after {timeout:.0f} s waiting for {what}.")
    return result


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """POST raw bytes and return the status and the JSON answer, errors included."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def hubspot_event(deal_id: str, stage: str = "closedwon", event_id: int = 1, **extra) -> dict:
    """Return a deal-stage change event in HubSpot's webhook shape."""
    return {
        "eventId": event_id,
        "subscriptionId": 1001,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": int(deal_id),
        "propertyName": "dealstage",
        "propertyValue": stage,
        "changeSource": "CRM_UI",
        **extra,
    }


def hubspot_signed(
    body: bytes,
    *,
    uri: str = "http://testserver/webhooks/hubspot/",
    secret: str | None = None,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    """Return the headers HubSpot sends with a body for `uri`, signed with the hub's secret."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    secret = settings.HUBSPOT_CLIENT_SECRET if secret is None else secret
    signature = signature_v3(secret=secret, method="POST", uri=uri, body=body, timestamp=timestamp)
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
    }


def signed_hubspot_post(
    url: str, body: bytes, *, secret: str, timestamp_ms: int | None = None
) -> tuple[int, dict]:
    """POST a body to the hub's HubSpot webhook, signed as HubSpot signs it."""
    return post(url, body, hubspot_signed(body, uri=url, secret=secret, timestamp_ms=timestamp_ms))


def api_for(user):
    """Return a DRF test client that sends the user's API token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def items_besides_xero_connection():
    """The review items, leaving out the one that says Xero is not connected (tests that
    never connect Xero see customers wait on it: the hub cannot match them in Xero yet)."""
    from review_queue.models import ReviewItem

    return ReviewItem.objects.exclude(kind="connection", system="xero")


@contextmanager
def demo_hubspot(settings, tmp_path) -> Iterator[Any]:
    """The HubSpot sandbox with the demo's seed, and the hub pointed at it, for the block."""
    from connectors.sandbox.hubspot.server import start_in_thread

    sandbox = start_in_thread(
        port=0,
        access_token=settings.HUBSPOT_ACCESS_TOKEN,
        client_secret=settings.HUBSPOT_CLIENT_SECRET,
        seed="demo",
        state_file=str(tmp_path / "hubspot-sandbox.json"),
    )
    try:
        with override_settings(HUBSPOT_API_BASE_URL=sandbox.url):
            yield sandbox
    finally:
        sandbox.stop()


def other_connection(**options) -> psycopg.Connection:
    """A connection of its own to the test database: it sees only what was committed."""
    params = {
        name: value
        for name, value in connection.get_connection_params().items()
        if name not in ("cursor_factory", "context", "prepare_threshold")
    }
    return psycopg.connect(**params, **options)
