"""Xero's 401: an expired token is renewed once and the call goes on; only a refused
renewal, or a 401 to a token renewed a moment ago, asks a person to reconnect.

Through xero-python over HTTP against the sandbox, which answers 401 TokenExpired as Xero
does (WWW-Authenticate: Bearer error="invalid_token").
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from connectors import limits
from connectors.calls import calls_recorded
from connectors.errors import AuthExpired
from connectors.models import XeroConnection
from connectors.xero.accounting import XeroAccounting
from handoffs.models import HandoffRun
from handoffs.runs import connection_item_open
from operations.models import Job
from review_queue.models import ReviewItem
from tests.connectors.xero.conftest import reconnect
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, finished_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_expired_token_is_renewed_and_the_call_succeeds_with_no_item(xero, organisation):
    xero.store.tokens_expire()  # half an hour passed at Xero; the hub thinks it has time
    with calls_recorded() as calls:
        assert "LABOUR-HR" in XeroAccounting(organisation).item_codes()
    assert [c["status"] for c in calls] == [401, "ok"]
    assert xero.store.token_calls == 1
    saved = XeroConnection.objects.get(pk=organisation.pk)
    assert saved.status == "connected" and saved.access_token != organisation.access_token
    assert not ReviewItem.objects.exists()


def test_when_xeros_clock_runs_ahead_the_token_is_renewed_early(xero, organisation):
    # The hub's token has 5 minutes left by its clock; Xero's clock is 10 minutes ahead.
    grant = xero.store.access_tokens[organisation.access_token][1]
    xero.store.access_tokens[organisation.access_token] = (time.time() + 300, grant)
    XeroConnection.objects.filter(pk=organisation.pk).update(
        expires_at=timezone.now() + timedelta(minutes=5)
    )
    xero.store.faults = {"clock_skew": 600}
    assert XeroAccounting(organisation).item_codes()
    assert xero.store.token_calls == 1
    assert not ReviewItem.objects.exists()


def test_a_401_to_a_token_just_renewed_opens_one_item_naming_the_organisation(xero, organisation):
    xero.store.faults = {"clock_skew": 3600}  # every token is expired at Xero, even new ones
    failures = []
    for _ in range(2):  # two handoffs meet it
        with pytest.raises(AuthExpired) as refused:
            XeroAccounting(XeroConnection.objects.get(pk=organisation.pk)).item_codes()
        failures.append(refused.value)
        connection_item_open(refused.value)
    assert "Demo Trades Pty Ltd" in failures[0].message and failures[0].code == "reconnect"
    assert xero.store.token_calls == 1  # the second handoff did not try again
    assert XeroConnection.objects.get(pk=organisation.pk).status == "reconnect_needed"
    (item,) = ReviewItem.objects.filter(status="open")
    assert (item.title, item.occurrences) == ("Reconnect Xero: Demo Trades Pty Ltd", 2)
    assert "TokenExpired" in item.vendor_error


def test_a_refused_refresh_token_opens_one_item(xero, organisation):
    XeroConnection.objects.filter(pk=organisation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    xero.store.refresh_tokens.clear()  # used elsewhere, or revoked: invalid_grant
    with pytest.raises(AuthExpired, match="no longer accepts the hub's connection") as refused:
        XeroAccounting(organisation).item_codes()
    connection_item_open(refused.value)
    (item,) = ReviewItem.objects.filter(status="open")
    assert item.title == "Reconnect Xero: Demo Trades Pty Ltd"
    assert "invalid_grant" in item.vendor_error


def test_twenty_callers_refused_at_once_make_one_refresh(xero, organisation, monkeypatch):
    monkeypatch.setattr(limits, "MAX_WAIT_SECONDS", 30)  # five at a time: some wait a while
    xero.store.tokens_expire()
    failures, start = [], threading.Barrier(20)

    def caller() -> None:
        try:
            hub = XeroAccounting(XeroConnection.objects.get(pk=organisation.pk))
            start.wait(10)
            hub.item_codes()
        except Exception as error:  # noqa: BLE001 (asserted below)
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert xero.store.token_calls == 1
    assert xero.store.organisations[organisation.tenant_id].rejected == 0
    assert not ReviewItem.objects.exists()


def test_reconnecting_resolves_the_item_even_with_no_handoff_waiting(xero, organisation, admin):
    xero.store.faults = {"clock_skew": 3600}
    with pytest.raises(AuthExpired) as refused:
        XeroAccounting(organisation).item_codes()
    item = connection_item_open(refused.value)
    page = admin.get("/settings/xero/").content.decode()
    assert '"badge bad">Reconnect needed' in page and f"/review/{item.pk}/" in page
    xero.store.faults = {}
    done = reconnect(admin, xero).content.decode()
    assert "Xero is connected (Demo Trades Pty Ltd). No handoff was waiting." in done
    assert "is not something that can be done" not in done
    item.refresh_from_db()
    assert (item.status, item.resolution, item.resolved_by.username) == (
        "resolved",
        "reconnected",
        "boss",
    )
    page = admin.get("/settings/xero/").content.decode()
    assert '"badge bad">Reconnect needed' not in page and '"badge ok">Connected<' in page


def test_finished_jobs_wait_on_the_one_named_item_and_are_invoiced_after_reconnecting(
    hub, django_user_model, admin
):
    connection = connect_xero(hub)
    hub.xero.store.faults = {"clock_skew": 3600}
    first = finished_job(hub, django_user_model, "safety switch upgrade")
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="connection", status="open").first(),
        what="the Reconnect Xero item",
    )
    assert item.title == "Reconnect Xero: Demo Trades Pty Ltd"
    assert XeroConnection.objects.get(pk=connection.pk).status == "reconnect_needed"
    # A job finished later meets the marked connection: the same item, not a second one.
    second = finished_job(hub, django_user_model, "emergency lighting test")
    waiting = HandoffRun.objects.filter(review_item=item, state="needs_review")
    wait_for(lambda: waiting.count() == 2, what="both runs to wait on the item")
    assert ReviewItem.objects.filter(status="open").count() == 1
    home = admin.get("/").content.decode()
    assert "Xero: Demo Trades Pty Ltd" in home and '"badge bad">Reconnect needed' in home
    hub.xero.store.faults = {}
    done = reconnect(admin, hub.xero).content.decode()
    assert "Sent 2 waiting handoffs back to the workers" in done
    wait_for(
        lambda: Job.objects.filter(pk__in=[first.pk, second.pk], status="invoiced").count() == 2,
        what="both invoices",
    )
    assert ReviewItem.objects.filter(status="open").count() == 0


def test_an_organisation_xero_no_longer_lets_in_is_marked_alone(xero, organisation):
    grant = xero.store.access_tokens[organisation.access_token][1]
    xero.store.grants[grant].discard(organisation.tenant_id)  # disconnected in Xero: 403
    with pytest.raises(AuthExpired, match="Demo Trades Pty Ltd") as refused:
        XeroAccounting(organisation).item_codes()
    assert "AuthorizationUnsuccessful" in refused.value.detail
    assert XeroConnection.objects.get(pk=organisation.pk).status == "reconnect_needed"
    with pytest.raises(AuthExpired) as later:  # a later handoff: the same item
        XeroAccounting.connected(organisation.tenant_id)
    assert later.value.details["root"] == refused.value.details["root"]
