"""The inbox: verified deliveries stored as events, then turned into handoff runs."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.base import VendorEvent
from connectors.operations.events import events_mark_forwarded, events_pending
from connectors.registry import business_event
from handoffs.dispatch import inbox_notify
from handoffs.models import InboundEvent, WebhookDelivery
from handoffs.registry import handoffs_for
from handoffs.runs import handoff_run_start
from integration_hub import labels


def _events_store(*, source: str, events, delivery: WebhookDelivery | None) -> list[int]:
    """Insert the events not seen before, in two statements for the lot (one at a time only
    when a concurrent delivery of the same events races this one); the dispatcher hands them
    to the workers once the transaction commits. Return the new ids."""
    known = _keys_stored(source, {event.delivery_key for event in events})
    fresh: dict[str, InboundEvent] = {}
    for event in events:
        if event.delivery_key not in known and event.delivery_key not in fresh:
            fresh[event.delivery_key] = InboundEvent(
                source=source,
                delivery_key=event.delivery_key,
                event_type=event.event_type,
                object_id=event.object_id,
                payload=event.payload,
                delivery=delivery,
            )
    try:
        with transaction.atomic():
            stored = InboundEvent.objects.bulk_create(fresh.values(), batch_size=500)
        new_ids = [event.pk for event in stored]
    except IntegrityError:  # stored meanwhile by another delivery of some of them
        new_ids = _events_store_each(fresh.values())
    if new_ids:
        inbox_notify()
    return new_ids


def _keys_stored(source: str, keys: set[str]) -> set[str]:
    """Return which of these delivery keys the inbox already holds."""
    stored = InboundEvent.objects.filter(source=source, delivery_key__in=keys)
    return set(stored.values_list("delivery_key", flat=True))


def _events_store_each(events) -> list[int]:
    """Insert the events one by one, leaving out those already stored; return the new ids."""
    new_ids = []
    for event in events:
        try:
            with transaction.atomic():
                event.save()
            new_ids.append(event.pk)
        except IntegrityError:
            event.pk = None  # Already stored by an earlier delivery of the same event.
    return new_ids


@transaction.atomic
def inbound_events_store(
    *, source: str, events: list[VendorEvent], headers: dict, body: bytes, remote_addr: str | None
) -> WebhookDelivery:
    """Store a verified delivery and its new events; nothing here talks to the broker."""
    delivery = WebhookDelivery.objects.create(
        source=source,
        outcome=WebhookDelivery.Outcome.ACCEPTED,
        status_code=200,
        headers=headers,
        raw_body=body.decode("utf-8", "replace"),
        body_size=len(body),
        remote_addr=remote_addr,
    )
    new_ids = _events_store(source=source, events=events, delivery=delivery)
    delivery.events_new = len(new_ids)
    delivery.events_duplicate = len(events) - len(new_ids)
    if events and not new_ids:
        delivery.outcome = WebhookDelivery.Outcome.DUPLICATE
    delivery.save(update_fields=["events_new", "events_duplicate", "outcome"])
    return delivery


@transaction.atomic
def polled_events_store(*, source: str, events: list[VendorEvent]) -> int:
    """Store events found by polling (no delivery to record); return how many were new."""
    return len(_events_store(source=source, events=events, delivery=None))


@transaction.atomic
def operations_events_forward() -> int:
    """Move operations' outbox events into the inbox, as if the job system had sent them."""
    pending = events_pending()
    if not pending:
        return 0
    ids = [pk for pk, _ in pending]
    _events_store(source="operations", events=[event for _, event in pending], delivery=None)
    events_mark_forwarded(ids)
    return len(ids)


@transaction.atomic
def inbound_event_process(*, event_id: int) -> None:
    """Turn one stored event into the handoff runs it starts; a second call does nothing."""
    # Wait for a lock another worker holds on it: that worker is processing it.
    event = (
        InboundEvent.objects.select_for_update()
        .filter(pk=event_id, state=InboundEvent.State.PENDING)
        .first()
    )
    if event is None:
        return
    happened = business_event(source=event.source, payload=event.payload)
    handoffs = handoffs_for(happened) if happened else []
    notes = []
    for handoff in handoffs:
        run, created = handoff_run_start(handoff=handoff, happened=happened, event=event)
        notes.append(f"{'started' if created else 'already had'} run {run.pk} ({handoff.label})")
    if handoffs:
        event.state = InboundEvent.State.PROCESSED
    else:
        event.state = InboundEvent.State.IGNORED
        what = happened.type if happened else event.event_type
        notes.append(f"No handoff listens to “{labels.event_label(what)}”.")
    event.note = "; ".join(notes)
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "note", "processed_at"])


def inbox_drain(*, rounds: int = 50) -> int:
    """Process everything stored, here and now, until nothing is left; return the runs executed.

    For the demo's seed and for tests that run the pipeline in one process: a worker does
    the same, one task at a time.
    """
    from handoffs.models import HandoffRun
    from handoffs.runs import handoff_run_execute

    executed = 0
    for _ in range(rounds):
        operations_events_forward()
        events = list(
            InboundEvent.objects.filter(state=InboundEvent.State.PENDING).values_list(
                "pk", flat=True
            )
        )
        due = HandoffRun.objects.filter(
            state__in=[HandoffRun.State.PENDING, HandoffRun.State.RETRYING],
            next_attempt_at__lte=timezone.now(),
        )
        runs = list(due.values_list("pk", flat=True))
        if not events and not runs:
            return executed
        for pk in events:
            inbound_event_process(event_id=pk)
        for pk in runs:
            executed += bool(handoff_run_execute(run_id=pk))
    raise RuntimeError("The inbox never emptied: a handoff keeps making work.")
