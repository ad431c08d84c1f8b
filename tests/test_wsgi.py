"""The WSGI entry point: webhooks through WEBHOOK_MIDDLEWARE only, pages through all of it."""

import io
import json

import pytest
from django.db import connection
from django.urls import reverse

from handoffs.models import InboundEvent
from integration_hub.wsgi import WEBHOOKS, application
from tests.helpers import hubspot_event, hubspot_signed, other_connection


def call(method: str, path: str, body: bytes = b"", **headers: str) -> tuple[str, dict, bytes]:
    """Call the WSGI application as gunicorn does; return the status, headers and body."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    environ |= {f"HTTP_{name.upper()}": value for name, value in headers.items()}
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(response_headers)

    chunks = application(environ, start_response)
    content = b"".join(chunks)
    chunks.close()
    return answer["status"], answer["headers"], content


def test_the_webhook_paths_are_the_ones_the_entry_point_sends_to_the_lean_handler():
    assert reverse("handoffs:hubspot_webhook").startswith(WEBHOOKS)
    assert reverse("handoffs:xero_webhook").startswith(WEBHOOKS)


@pytest.mark.django_db(transaction=True)  # the entry point manages its own connection
def test_a_webhook_is_stored_with_the_security_headers_and_none_of_the_page_middleware():
    status, headers, content = signed_call(json.dumps([hubspot_event("61", event_id=61)]).encode())
    assert (status, json.loads(content)) == ("200 OK", {"stored": 1, "duplicates": 0})
    assert InboundEvent.objects.get().object_id == "61"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in headers  # the clickjacking middleware is the pages'
    assert "Cookie" not in headers.get("Vary", "")


def signed_call(body: bytes) -> tuple[str, dict, bytes]:
    signed = hubspot_signed(body)
    return call(
        "POST",
        "/webhooks/hubspot/",
        body,
        X_HUBSPOT_SIGNATURE_V3=signed["X-HubSpot-Signature-v3"],
        X_HUBSPOT_REQUEST_TIMESTAMP=signed["X-HubSpot-Request-Timestamp"],
    )


@pytest.mark.django_db(transaction=True)
def test_a_webhook_on_a_connection_that_broke_gets_a_500_and_its_resend_is_stored():
    assert signed_call(json.dumps([hubspot_event("71", event_id=71)]).encode())[0] == "200 OK"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [backend] = cursor.fetchone()
    with other_connection(autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 60000)", [backend])
    body = json.dumps([hubspot_event("72", event_id=72)]).encode()
    assert signed_call(body)[0].startswith("500")  # the vendor sends it again
    status, _, content = signed_call(body)
    assert (status, json.loads(content)) == ("200 OK", {"stored": 1, "duplicates": 0})
    assert sorted(InboundEvent.objects.values_list("object_id", flat=True)) == ["71", "72"]


@pytest.mark.django_db(transaction=True)
def test_a_webhook_for_a_host_the_hub_does_not_serve_is_refused():
    status, _, _ = call("POST", "/webhooks/xero/", b"{}", HOST="attacker.example")
    assert status.startswith("400")


@pytest.mark.django_db(transaction=True)
def test_pages_keep_all_their_middleware():
    status, headers, _ = call("GET", "/login/")
    assert status == "200 OK"
    assert headers["X-Frame-Options"] == "DENY"
    assert "csrftoken" in headers.get("Set-Cookie", "")
