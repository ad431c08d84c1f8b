"""Webhook endpoints: verify, store, answer. Nothing else happens here: the dispatcher hands
the stored events to the workers (handoffs/dispatch.py)."""

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.base import VendorEvent
from connectors.errors import MalformedDelivery, SignatureRefused
from connectors.hubspot import webhooks as hubspot
from connectors.xero import webhooks as xero
from handoffs.inbox import Stored, inbound_events_store
from handoffs.models import WebhookDelivery
from handoffs.refusals import webhook_refusal_record

Outcome = WebhookDelivery.Outcome


def _body_or_none(request: HttpRequest) -> bytes | None:
    """Return the raw body, or None when it is over the size limit (checked before reading)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.body
    return None if len(body) > limit else body


def _sender_address(request: HttpRequest) -> str | None:
    """Return the sender's address; behind the hub's proxy, the one the proxy saw."""
    address = request.META.get("REMOTE_ADDR")
    if settings.BEHIND_PROXY:
        # Only the last entry was added by the hub's own proxy; earlier ones can be forged.
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        try:
            address = str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return address


def _receive(
    request: HttpRequest,
    *,
    source: str,
    verify: Callable[[bytes], None],
    parse: Callable[[bytes], list[VendorEvent]],
    answer: Callable[[Stored], HttpResponse],
    refuse: Callable[[int, str], HttpResponse],
) -> HttpResponse:
    """Size, signature, parse and store; every refusal is recorded with its reason."""
    body = _body_or_none(request)
    try:
        if body is None:
            raise OverflowError(f"The body is over {settings.WEBHOOK_MAX_BODY_BYTES} bytes.")
        verify(body)
        events = parse(body)
    except (OverflowError, SignatureRefused, MalformedDelivery) as refused:
        outcome, status = {
            OverflowError: (Outcome.TOO_LARGE, 413),
            SignatureRefused: (Outcome.REFUSED, 401),
            MalformedDelivery: (Outcome.MALFORMED, 400),
        }[type(refused)]
        webhook_refusal_record(
            source=source,
            outcome=outcome,
            status_code=status,
            reason=str(refused),
            headers=dict(request.headers),
            body=body or b"",
            remote_addr=_sender_address(request),
        )
        return refuse(status, str(refused))
    # The store is the request's one query; a connection that broke since the last request
    # fails it with a 500 (the vendor sends again, and Django drops that connection), so
    # the health check Django would run first (CONN_HEALTH_CHECKS) is a round trip saved.
    connection.health_check_done = True
    stored = inbound_events_store(
        source=source,
        events=events,
        headers=dict(request.headers),
        body=body,
        remote_addr=_sender_address(request),
    )
    return answer(stored)


@csrf_exempt
@require_POST
def hubspot_webhook(request: HttpRequest) -> HttpResponse:
    """Receive HubSpot's batched events: 200 stored, 401 unsigned, 400 malformed, 413 too big."""

    def verify(body: bytes) -> None:
        hubspot.signature_check(
            secret=settings.HUBSPOT_CLIENT_SECRET,
            method=request.method or "POST",
            uri=settings.HUBSPOT_WEBHOOK_URL or request.build_absolute_uri(),
            body=body,
            signature=request.headers.get("X-HubSpot-Signature-v3"),
            timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
        )

    return _receive(
        request,
        source="hubspot",
        verify=verify,
        parse=hubspot.events_parse,
        answer=lambda stored: JsonResponse({"stored": stored.new, "duplicates": stored.duplicate}),
        refuse=lambda status, reason: JsonResponse({"error": reason}, status=status),
    )


@csrf_exempt
@require_POST
def xero_webhook(request: HttpRequest) -> HttpResponse:
    """Receive Xero's events; pass its intent-to-receive (200 or 401, both with an empty body).

    Xero does not enable a subscription whose endpoint answers a mis-signed probe with
    anything but an empty 401, so every refusal here has an empty body; the reason is in
    the Inbox.
    """

    def verify(body: bytes) -> None:
        xero.signature_check(
            key=settings.XERO_WEBHOOK_KEY, body=body, sent=request.headers.get("x-xero-signature")
        )

    return _receive(
        request,
        source="xero",
        verify=verify,
        parse=xero.events_parse,
        answer=lambda stored: HttpResponse(status=200),
        refuse=lambda status, reason: HttpResponse(status=status),
    )
