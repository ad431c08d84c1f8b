"""Webhook endpoints: verify, store, enqueue, answer. Nothing else happens here."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.hubspot.webhooks import (
    MalformedDelivery,
    SignatureRefused,
    events_parse,
    signature_check,
)
from handoffs.inbox import inbound_events_store, webhook_refusal_record
from handoffs.models import WebhookDelivery


def _refuse(request: HttpRequest, *, source: str, outcome: str, status: int, reason: str,
            body: bytes = b"") -> JsonResponse:  # fmt: skip
    webhook_refusal_record(
        source=source,
        outcome=outcome,
        status_code=status,
        reason=reason,
        headers=dict(request.headers),
        body=body,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    return JsonResponse({"error": reason}, status=status)


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


@csrf_exempt
@require_POST
def hubspot_webhook(request: HttpRequest) -> JsonResponse:
    """Receive HubSpot's batched events: 200 stored, 401 unsigned, 400 malformed, 413 too big."""
    source = "hubspot"
    body = _body_or_none(request)
    if body is None:
        reason = f"The body is over {settings.WEBHOOK_MAX_BODY_BYTES} bytes."
        return _refuse(request, source=source, outcome=WebhookDelivery.Outcome.TOO_LARGE,
                       status=413, reason=reason)  # fmt: skip
    try:
        signature_check(
            secret=settings.HUBSPOT_CLIENT_SECRET,
            method=request.method or "POST",
            uri=settings.HUBSPOT_WEBHOOK_URL or request.build_absolute_uri(),
            body=body,
            signature=request.headers.get("X-HubSpot-Signature-v3"),
            timestamp=request.headers.get("X-HubSpot-Request-Timestamp"),
        )
        events = events_parse(body)
    except SignatureRefused as refused:
        return _refuse(request, source=source, outcome=WebhookDelivery.Outcome.REFUSED,
                       status=401, reason=str(refused), body=body)  # fmt: skip
    except MalformedDelivery as malformed:
        return _refuse(request, source=source, outcome=WebhookDelivery.Outcome.MALFORMED,
                       status=400, reason=str(malformed), body=body)  # fmt: skip
    delivery = inbound_events_store(
        source=source,
        events=events,
        headers=dict(request.headers),
        body=body,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    return JsonResponse({"stored": delivery.events_new, "duplicates": delivery.events_duplicate})
