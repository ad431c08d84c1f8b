"""Operations' outbox: every change it owns becomes an event for the hub's inbox."""

from collections.abc import Callable

from django.db import transaction

from operations.models import Customer, Job, JobEvent

# Called after commit whenever events were recorded; the hub registers its forwarder
# here, so this app never imports the hub's layers.
_SUBSCRIBERS: list[Callable[[], None]] = []


def events_subscribe(callback: Callable[[], None]) -> None:
    """Be told, after each commit that recorded events, that there are events to take."""
    if callback not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(callback)


def _notify() -> None:
    for callback in _SUBSCRIBERS:
        callback()


def event_record(
    *, type: str, data: dict, job: Job | None = None, customer: Customer | None = None, by=None
) -> JobEvent:
    """Record a job's or a customer's event in the caller's transaction; subscribers hear
    of it on commit."""
    (event,) = events_record([JobEvent(type=type, job=job, customer=customer, data=data, actor=by)])
    return event


def events_record(events: list[JobEvent]) -> list[JobEvent]:
    """Record many events in one statement, in the caller's transaction (see event_record)."""
    events = JobEvent.objects.bulk_create(events, batch_size=1000)
    # Once per transaction is enough: the subscriber takes every pending event.
    # Robust: a subscriber failing (logged by Django) must not undo or fail the change;
    # the event waits in the outbox and the hub's sweeper forwards it.
    pending = transaction.get_connection().run_on_commit
    if not any(callback is _notify for _, callback, _ in pending):
        transaction.on_commit(_notify, robust=True)
    return events
