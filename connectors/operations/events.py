"""Operations' outbox read as vendor events, the way a webhook delivery is read."""

from django.utils import timezone

from connectors.base import VendorEvent
from operations.events import OUTBOX_CHANNEL
from operations.models import JobEvent

# PostgreSQL announces each commit that added outbox events on this channel.
CHANNEL = OUTBOX_CHANNEL

BATCH = 500


def events_pending(*, limit: int = BATCH) -> list[tuple[int, VendorEvent]]:
    """Return outbox events not yet handed to the hub, oldest first, locked for this transaction."""
    rows = (
        JobEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(forwarded_at__isnull=True)
        .select_related("job", "customer", "actor")
        .order_by("created_at", "pk")[:limit]
    )
    return [
        (
            row.pk,
            VendorEvent(
                delivery_key=f"outbox:{row.pk}",
                event_type=row.type,
                object_id=row.job.number or "" if row.job else str(row.customer_id),
                payload={
                    "eventId": row.pk,
                    "type": row.type,
                    "job": row.job.number if row.job else None,
                    "customer": row.customer_id,
                    "data": row.data,
                    "actor": row.actor.get_username() if row.actor else "",
                    "occurredAt": row.created_at.isoformat(),
                },
            ),
        )
        for row in rows
    ]


def events_mark_forwarded(ids: list[int]) -> None:
    """Note that these outbox events are now in the hub's inbox."""
    JobEvent.objects.filter(pk__in=ids).update(forwarded_at=timezone.now())
