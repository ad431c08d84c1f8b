"""The dispatcher: a stored delivery is answered 2xx whatever the broker does, and reaches
the workers once the broker answers again."""

import json

import pytest
from django.test import Client

from handoffs.dispatch import events_dispatch
from handoffs.models import InboundEvent, WebhookDelivery
from integration_hub.celery import app
from tests.conftest import hub_quiet
from tests.helpers import hubspot_event, hubspot_signed, wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    """Every publish to the broker fails, as with Redis stopped."""
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    # Fresh pools of connections to the dead broker; monkeypatch puts the live ones back.
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


@pytest.mark.django_db(transaction=True)  # so the request's transaction really commits
def test_a_delivery_stored_while_the_broker_is_down_is_answered_200(broker_down, celery_worker):
    body = json.dumps([hubspot_event("1234")]).encode()
    response = Client().post(
        "/webhooks/hubspot/", body, content_type="application/json", headers=hubspot_signed(body)
    )
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.outcome, delivery.status_code) == ("accepted", 200)
    assert InboundEvent.objects.get().payload["objectId"] == 1234
    # The session's dispatcher and worker (their own processes, their own broker) take the
    # event: it must be done with before the database is emptied for the next test.
    wait_for(hub_quiet, what="the event to be processed")


def test_the_dispatcher_leaves_events_unsent_while_the_broker_is_down(broker_down):
    event = InboundEvent.objects.create(
        source="hubspot", delivery_key="k", event_type="deal.creation", payload={}
    )
    with pytest.raises(Exception):  # noqa: B017 (whatever kombu raises for a refused connection)
        events_dispatch()
    event.refresh_from_db()
    assert event.enqueued_at is None


def test_the_dispatcher_sends_each_stored_event_once():
    events = [
        InboundEvent.objects.create(
            source="hubspot", delivery_key=f"k{n}", event_type="deal.creation", payload={}
        )
        for n in range(3)
    ]
    assert events_dispatch() == 3
    assert all(e.enqueued_at for e in InboundEvent.objects.filter(pk__in=[e.pk for e in events]))
    assert events_dispatch() == 0
