"""Thin Celery tasks: take ids, call one service."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from handoffs.inbox import inbound_event_process, inbound_events_process
from handoffs.models import WorkerHeartbeat
from handoffs.polling import finance_poll
from handoffs.reconcile import reconcile as systems_reconcile
from handoffs.refusals import webhook_refusals_expire
from handoffs.runs import handoff_run_execute
from handoffs.sweep import sweep as sweep_stale


@shared_task(name="handoffs.tasks.process_event")
def process_event(event_id: int) -> None:
    inbound_event_process(event_id=event_id)


@shared_task(name="handoffs.tasks.process_events")
def process_events(event_ids: list[int]) -> None:
    inbound_events_process(event_ids=event_ids)


@shared_task(name="handoffs.tasks.run_handoff")
def run_handoff(run_id: int) -> None:
    handoff_run_execute(run_id=run_id, gather=True)


@shared_task(name="handoffs.tasks.sweep")
def sweep() -> dict[str, int]:
    return sweep_stale()


@shared_task(name="handoffs.tasks.xero_poll")
def xero_poll() -> dict[str, int]:
    return finance_poll()


@shared_task(name="handoffs.tasks.expire_refusals")
def expire_refusals() -> int:
    return webhook_refusals_expire()


@shared_task(name="handoffs.tasks.heartbeat")
def heartbeat() -> None:
    WorkerHeartbeat.objects.update_or_create(name="worker", defaults={"beat_at": timezone.now()})


@shared_task(
    name="handoffs.tasks.reconcile",
    soft_time_limit=settings.RECONCILE_MAX_SECONDS,
    time_limit=settings.RECONCILE_MAX_SECONDS + 60,
)
def reconcile(asked_by: str = "nightly") -> int:
    return systems_reconcile(asked_by=asked_by).pk
