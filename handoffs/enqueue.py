"""Sending work to the workers, by task name so services and tasks do not import each other."""

from integration_hub.celery import app

PROCESS_EVENT = "handoffs.tasks.process_event"
PROCESS_EVENTS = "handoffs.tasks.process_events"
RUN_HANDOFF = "handoffs.tasks.run_handoff"


def event_enqueue(event_id: int) -> None:
    """Ask a worker to turn a stored event into handoff runs."""
    app.send_task(PROCESS_EVENT, args=[event_id], queue="default")


def events_enqueue(event_ids: list[int]) -> None:
    """Ask one worker to turn these stored events into handoff runs, one after another."""
    app.send_task(PROCESS_EVENTS, args=[event_ids], queue="default")


def run_enqueue(run_id: int, *, queue: str, countdown: float | None = None) -> None:
    """Ask a worker on the run's queue to execute it, now or after a delay."""
    app.send_task(RUN_HANDOFF, args=[run_id], queue=queue, countdown=countdown)
