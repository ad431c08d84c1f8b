"""The inbox: verified deliveries stored as events, then turned into handoff runs."""

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from connectors.base import VendorEvent
from connectors.operations.events import events_mark_forwarded, events_pending
from connectors.registry import business_event
from handoffs.dispatch import CHANNEL, inbox_notify, notify_due, notify_sent
from handoffs.models import InboundEvent, WebhookDelivery
from handoffs.registry import handoffs_for
from handoffs.runs import handoff_run_start
from integration_hub import labels

logger = logging.getLogger(__name__)
PENDING = InboundEvent.State.PENDING
INSERT_CHUNK = 1000  # events per INSERT: well inside SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class Stored:
    """What storing a delivery did: its row, and how many of its events were new."""

    delivery_id: int
    new: int
    duplicate: int


def _events_insert(*, source: str, events: list[VendorEvent], delivery: str) -> tuple[str, list]:
    """Return one INSERT of the events that skips those stored before (and repeats within
    the list) and returns the new ids, with its parameters. `delivery` is SQL for the
    delivery's id."""
    payload = InboundEvent._meta.get_field("payload")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    row = f"(%s, %s, %s, %s, %s, {delivery}, %s, '', %s)"
    params = []
    for event in events:
        params += [source, event.delivery_key, event.event_type, event.object_id]
        params += [payload.get_db_prep_save(event.payload, connection), PENDING, now]
    sql = (
        f"INSERT INTO {InboundEvent._meta.db_table} (source, delivery_key, event_type, "
        "object_id, payload, delivery_id, state, note, received_at) "
        f"VALUES {', '.join([row] * len(events))} "
        "ON CONFLICT (source, delivery_key) DO NOTHING RETURNING id"
    )
    return sql, params


def _events_store(
    *,
    source: str,
    events: list[VendorEvent],
    delivery: WebhookDelivery | None = None,
    wake: bool = True,
) -> list[int]:
    """Insert the events not seen before; the dispatcher hands them to the workers once the
    transaction commits (woken unless `wake` is false). Return the new ids."""
    new_ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(events), INSERT_CHUNK):
            sql, params = _events_insert(
                source=source,
                events=events[start : start + INSERT_CHUNK],
                delivery=str(delivery.pk) if delivery else "NULL",
            )
            cursor.execute(sql, params)
            new_ids += [pk for (pk,) in cursor.fetchall()]
    if new_ids and wake:
        inbox_notify()
    return new_ids


# PostgreSQL: the delivery, its new events and the dispatchers' wake-up in one statement,
# so one round trip, atomic on its own. The delivery's id is drawn first for its events.
DELIVERY_STORE = """
WITH delivery AS (SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id),
stored AS ({events}),
counted AS (SELECT count(*) AS new FROM stored)
INSERT INTO {table} (id, source, outcome, status_code, reason, headers, raw_body,
    body_size, remote_addr, events_new, events_duplicate, received_at, suppressed)
VALUES ((SELECT id FROM delivery), %s,
    CASE WHEN (SELECT new FROM counted) = 0 THEN %s ELSE %s END, 200, '', %s, %s, %s, %s,
    (SELECT new FROM counted), %s - (SELECT new FROM counted), %s, 0)
RETURNING id, events_new,
    CASE WHEN events_new > 0 AND %s THEN (SELECT true FROM pg_notify(%s, '')) ELSE false END
"""


def inbound_events_store(
    *, source: str, events: list[VendorEvent], headers: dict, body: bytes, remote_addr: str | None
) -> Stored:
    """Store a verified delivery and its new events, committed on return (or with the
    caller's transaction); nothing here talks to the broker."""
    fields = {
        "source": source,
        "headers": headers,
        "raw_body": body.decode("utf-8", "replace"),
        "body_size": len(body),
        "remote_addr": remote_addr,
    }
    if connection.vendor != "postgresql" or not events:
        return _delivery_store(events=events, **fields)
    table = WebhookDelivery._meta.db_table
    events_sql, events_params = _events_insert(
        source=source, events=events, delivery="(SELECT id FROM delivery)"
    )
    params = [
        table,
        *events_params,
        source,
        WebhookDelivery.Outcome.DUPLICATE,
        WebhookDelivery.Outcome.ACCEPTED,
        WebhookDelivery._meta.get_field("headers").get_db_prep_save(headers, connection),
        fields["raw_body"],
        fields["body_size"],
        remote_addr,
        len(events),
        connection.ops.adapt_datetimefield_value(timezone.now()),
        notify_due(),
        CHANNEL,
    ]
    with connection.cursor() as cursor:
        cursor.execute(DELIVERY_STORE.format(events=events_sql, table=table), params)
        delivery_id, new, notified = cursor.fetchone()
    if notified:
        notify_sent()
    return Stored(delivery_id, new, len(events) - new)


@transaction.atomic
def _delivery_store(*, events: list[VendorEvent], **fields) -> Stored:
    """Store a delivery and its new events through the ORM (SQLite, the demo's database,
    and deliveries of no event)."""
    delivery = WebhookDelivery.objects.create(
        outcome=WebhookDelivery.Outcome.ACCEPTED,
        status_code=200,
        events_new=len(events),
        **fields,
    )
    new = len(_events_store(source=fields["source"], events=events, delivery=delivery))
    if new < len(events):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            events_new=new,
            events_duplicate=len(events) - new,
            outcome=WebhookDelivery.Outcome.ACCEPTED if new else WebhookDelivery.Outcome.DUPLICATE,
        )
    return Stored(delivery.pk, new, len(events) - new)


@transaction.atomic
def polled_events_store(*, source: str, events: list[VendorEvent]) -> int:
    """Store events found by polling (no delivery to record); return how many were new."""
    return len(_events_store(source=source, events=events, delivery=None))


@transaction.atomic
def operations_events_forward() -> int:
    """Move operations' outbox events into the inbox, as if the job system had sent them;
    return how many. The dispatcher does it on each pass (and hands them on in the same
    pass, so it wakes no one), the sweeper after a crash, inbox_drain in one process."""
    pending = events_pending()
    if not pending:
        return 0
    ids = [pk for pk, _ in pending]
    events = [event for _, event in pending]
    _events_store(source="operations", events=events, delivery=None, wake=False)
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


def inbound_events_process(*, event_ids: list[int]) -> None:
    """Process many stored events, each in its own transaction (inbound_event_process).

    One that fails is logged and stays pending, as when its own task failed: the sweeper
    sends it again. The others go on.
    """
    for event_id in event_ids:
        try:
            inbound_event_process(event_id=event_id)
        except Exception:
            logger.exception(
                "Inbound event %s could not be processed; the sweeper retries it", event_id
            )


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
