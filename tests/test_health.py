"""/healthz: 200 when the database, broker and worker heartbeat are fine; 503 naming what is not."""

from datetime import timedelta

import pytest
from django.utils import timezone

from handoffs.models import InboundEvent, WorkerHeartbeat
from integration_hub.celery import app

pytestmark = pytest.mark.django_db


def test_it_is_healthy_with_a_fresh_heartbeat(client):
    WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_it_names_a_stale_worker_heartbeat(client):
    WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"].startswith("down: last heartbeat")


def test_it_names_a_broker_that_does_not_answer(client, monkeypatch):
    WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now())
    monkeypatch.setattr(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("down:")
    assert response.json()["checks"]["database"] == "ok"


def test_the_worker_heartbeat_comes_from_a_real_worker(celery_worker, transactional_db):
    from handoffs.tasks import heartbeat
    from tests.helpers import wait_for

    heartbeat.delay()
    wait_for(lambda: WorkerHeartbeat.objects.filter(name="worker").exists(), what="a heartbeat")


def test_it_names_events_the_dispatcher_left_waiting(client):
    WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now())
    event = InboundEvent.objects.create(
        source="hubspot", delivery_key="k", event_type="deal.creation", payload={}
    )
    assert client.get("/healthz").json()["checks"]["inbox"].startswith("ok")
    InboundEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["inbox"] == (
        "down: 1 stored events wait for the dispatcher, the oldest 300 s"
    )
