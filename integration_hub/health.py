"""/healthz: the database, the broker, the dispatcher and the workers' heartbeat, for load
balancers and people."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from handoffs.models import InboundEvent, WorkerHeartbeat
from integration_hub.celery import app


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker() -> str:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _inbox() -> str:
    waiting = InboundEvent.objects.filter(state="pending", enqueued_at__isnull=True)
    oldest = waiting.order_by("received_at").values_list("received_at", flat=True).first()
    if oldest is None:
        return "ok, nothing waiting for the dispatcher"
    age = (timezone.now() - oldest).total_seconds()
    if age > settings.INBOX_MAX_WAIT_SECONDS:
        raise RuntimeError(
            f"{waiting.count()} stored events wait for the dispatcher, the oldest {age:.0f} s"
        )
    return f"ok, oldest stored event {age:.0f} s old"


def _worker() -> str:
    beat = WorkerHeartbeat.objects.filter(name="worker").first()
    if beat is None:
        raise RuntimeError("no worker has reported yet")
    age = (timezone.now() - beat.beat_at).total_seconds()
    if age > settings.HEARTBEAT_MAX_AGE_SECONDS:
        raise RuntimeError(f"last heartbeat {age:.0f} s ago")
    return f"ok, last heartbeat {age:.0f} s ago"


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when everything answers, 503 naming what does not."""
    checks, healthy = {}, True
    for name, check in (
        ("database", _database),
        ("broker", _broker),
        ("inbox", _inbox),
        ("worker", _worker),
    ):
        try:
            checks[name] = check()
        except Exception as exc:  # Any failure here is the answer, not a crash.
            checks[name] = f"down: {exc}"
            healthy = False
    return JsonResponse({"healthy": healthy, "checks": checks}, status=200 if healthy else 503)
