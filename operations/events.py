"""Operations' outbox: every change it owns becomes an event for the hub's inbox.

A change only records its events, in its own transaction. On PostgreSQL the outbox table
announces each committed insert on OUTBOX_CHANNEL (a statement trigger, migration 0012),
so whoever forwards the outbox (the hub's dispatcher) wakes at once; elsewhere (the
demo's SQLite) the forwarder looks every second.
"""

from operations.models import Customer, Job, JobEvent

OUTBOX_CHANNEL = "operations_outbox"


def event_record(
    *, type: str, data: dict, job: Job | None = None, customer: Customer | None = None, by=None
) -> JobEvent:
    """Record a job's or a customer's event in the caller's transaction."""
    (event,) = events_record([JobEvent(type=type, job=job, customer=customer, data=data, actor=by)])
    return event


def events_record(events: list[JobEvent]) -> list[JobEvent]:
    """Record many events in one statement, in the caller's transaction (see event_record)."""
    return JobEvent.objects.bulk_create(events, batch_size=1000)
