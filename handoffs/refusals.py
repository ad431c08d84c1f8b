"""Refused webhook requests: kept for the Inbox page, bounded in size, number and age.

A refusal (bad signature, malformed, too large) is kept with the first
WEBHOOK_REFUSED_BODY_BYTES of its body and a few headers that explain it. Past
WEBHOOK_REFUSALS_PER_MINUTE refusals from one address in a minute, the rest are only
counted: one SUPPRESSED row per source, address and minute says how many, so a flood
neither fills the database nor goes unseen. The count is shared through Redis when
REDIS_URL is set (Django's cache), per process otherwise. Accepted deliveries never
come here. Refused rows older than WEBHOOK_REFUSED_KEEP_DAYS are deleted by beat.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from handoffs.models import WebhookDelivery

logger = logging.getLogger(__name__)
Outcome = WebhookDelivery.Outcome
REFUSED = [Outcome.REFUSED, Outcome.MALFORMED, Outcome.TOO_LARGE, Outcome.SUPPRESSED]
# What tells a person why a request was refused; cookies and credentials are never kept.
HEADERS_KEPT = {
    "content-type",
    "content-length",
    "user-agent",
    "host",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-hubspot-signature-v3",
    "x-hubspot-request-timestamp",
    "x-xero-signature",
}
HEADER_VALUE_KEPT = 256
EXPIRE_BATCH = 5000


def _headers_kept(headers: dict) -> dict[str, str]:
    return {
        name: str(value)[:HEADER_VALUE_KEPT]
        for name, value in headers.items()
        if name.lower() in HEADERS_KEPT
    }


def _refusals_counted(*, remote_addr: str | None, minute: datetime) -> int:
    """Count one refusal from this address in this minute; return the count so far."""
    key = f"webhook-refusals:{remote_addr or 'unknown'}:{minute:%Y%m%d%H%M}"
    try:
        cache.add(key, 0, timeout=120)
        return cache.incr(key)
    except ValueError:  # The key expired between add and incr: this is the first again.
        cache.set(key, 1, timeout=120)
        return 1
    except Exception:  # noqa: BLE001 (a counter that cannot count keeps the row, never 500s)
        logger.exception("Could not count webhook refusals; keeping this one")
        return 0


def webhook_refusal_record(
    *,
    source: str,
    outcome: str,
    status_code: int,
    reason: str,
    headers: dict,
    body: bytes,
    remote_addr: str | None,
) -> WebhookDelivery:
    """Keep a refused request for the audit trail, or count it when its address sends too many."""
    minute = timezone.now().replace(second=0, microsecond=0)
    if _refusals_counted(remote_addr=remote_addr, minute=minute) > (
        settings.WEBHOOK_REFUSALS_PER_MINUTE
    ):
        return _refusal_count(
            source=source, remote_addr=remote_addr, minute=minute, status_code=status_code
        )
    logger.warning("Refused %s webhook from %s: %s", source, remote_addr, reason)
    return WebhookDelivery.objects.create(
        source=source,
        outcome=outcome,
        status_code=status_code,
        reason=reason,
        headers=_headers_kept(headers),
        raw_body=body[: settings.WEBHOOK_REFUSED_BODY_BYTES].decode("utf-8", "replace"),
        body_size=len(body),
        remote_addr=remote_addr,
    )


def _refusal_count(
    *, source: str, remote_addr: str | None, minute: datetime, status_code: int
) -> WebhookDelivery:
    """Add one to the SUPPRESSED row of this source, address and minute (made on first use)."""
    row, created = WebhookDelivery.objects.get_or_create(
        outcome=Outcome.SUPPRESSED,
        source=source,
        remote_addr=remote_addr,
        minute=minute,
        defaults={
            "status_code": status_code,
            "reason": (
                f"More than {settings.WEBHOOK_REFUSALS_PER_MINUTE} refused requests in a "
                "minute from this address: the rest are counted here, not kept."
            ),
        },
    )
    if created:
        logger.warning("Refused %s webhooks from %s: counting, not keeping", source, remote_addr)
    WebhookDelivery.objects.filter(pk=row.pk).update(suppressed=F("suppressed") + 1)
    return row


def webhook_refusals_expire() -> int:
    """Delete refused requests older than WEBHOOK_REFUSED_KEEP_DAYS; return how many went."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_REFUSED_KEEP_DAYS)
    old = WebhookDelivery.objects.filter(outcome__in=REFUSED, received_at__lt=cutoff)
    deleted = 0
    # In batches, so a long backlog never holds one long lock on the table.
    while ids := list(old.values_list("pk", flat=True)[:EXPIRE_BATCH]):
        deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
    return deleted
