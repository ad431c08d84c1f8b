"""Connecting Xero from the settings page, end to end through the sandbox's consent page."""

from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from connectors.models import XeroConnection
from connectors.xero.accounting import XeroAccounting
from tests.connectors.xero.conftest import consent
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db


def test_an_admin_connects_two_organisations_that_share_one_token_pair(xero, admin):
    back = urlsplit(consent(admin))
    assert back.path == "/settings/xero/callback/"
    choose = admin.get(f"{back.path}?{back.query}")
    assert choose["Location"] == "/settings/xero/tenants/"
    page = admin.get("/settings/xero/tenants/").content.decode()
    assert "Demo Trades Pty Ltd" in page and "Demo Trades Brisbane Pty Ltd" in page
    done = admin.post("/settings/xero/tenants/", {"tenant": list(xero.store.organisations)})
    assert done.status_code == 302
    connections = list(XeroConnection.objects.order_by("tenant_name"))
    assert [c.tenant_name for c in connections] == [
        "Demo Trades Brisbane Pty Ltd",
        "Demo Trades Pty Ltd",
    ]
    assert connections[0].grant and connections[0].grant == connections[1].grant
    assert "accounting.payments" in connections[0].scopes
    for connection in connections:  # both reach their books through xero-python
        assert "LABOUR-HR" in XeroAccounting(connection).item_codes()
    assert "Demo Trades Pty Ltd" in admin.get("/settings/xero/").content.decode()


def test_a_callback_whose_state_differs_is_refused_and_connects_nothing(xero, admin):
    back = urlsplit(consent(admin))
    forged = back.query.replace("state=", "state=x")
    refused = admin.get(f"{back.path}?{forged}")
    assert refused.status_code == 400
    assert b"does not match a Connect request" in refused.content
    # The state is single-use: the genuine answer cannot be replayed after it was consumed.
    assert admin.get(f"{back.path}?{back.query}").status_code == 400
    assert not XeroConnection.objects.exists()


def test_staff_who_are_not_admins_cannot_open_the_xero_settings(office_staff):
    staff = Client()
    staff.force_login(office_staff)
    refused = staff.get("/settings/xero/")
    assert refused.status_code == 403 and "Only admins can change this" in refused.content.decode()
    assert Client().post("/settings/xero/connect/")["Location"].startswith("/login/")


def test_scopes_without_offline_access_are_refused_before_leaving_the_hub(xero, admin):
    answer = admin.post("/settings/xero/connect/", {"scopes": "accounting.invoices"}, follow=True)
    assert "Keep offline_access" in answer.content.decode()


def test_a_custom_connection_connects_its_one_organisation(xero, admin):
    admin.post("/settings/xero/custom/")
    (connection,) = XeroConnection.objects.all()
    assert (connection.kind, connection.tenant_name) == ("custom", "Demo Trades Pty Ltd")
    assert XeroAccounting(connection).item_codes()


def test_disconnecting_forgets_the_tokens_and_xero_no_longer_lists_the_organisation(xero, admin):
    back = urlsplit(consent(admin, tenants=1))
    admin.get(f"{back.path}?{back.query}")
    admin.post("/settings/xero/tenants/", {"tenant": list(xero.store.organisations)[:1]})
    connection = XeroConnection.objects.get()
    token = connection.access_token
    admin.post(f"/settings/xero/{connection.pk}/disconnect/")
    connection.refresh_from_db()
    assert (connection.status, connection.access_token) == ("disconnected", "")
    listed = requests.get(
        f"{xero.url}/connections", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert listed.json() == []


def test_connecting_resolves_the_reconnect_item_and_resumes_the_waiting_handoffs(hub, admin):
    xero = hub.xero
    from handoffs.models import HandoffRun
    from review_queue.models import ReviewItem
    from tests.review_queue.factories import ReviewItemFactory

    item = ReviewItemFactory(
        kind="connection",
        system="xero",
        title="Reconnect Xero",
        root_key="connection:xero:not_connected",
        record_type="",
        record_ref="",
        record_label="",
    )
    run = HandoffRun.objects.create(
        handoff="job_done_to_invoice",
        key="operations:job:J-1:invoice",
        queue="xero",
        record_system="operations",
        record_type="job",
        record_ref="J-1",
        state=HandoffRun.State.NEEDS_REVIEW,
        review_item=item,
    )
    page = admin.get(f"/review/{item.pk}/").content.decode()
    assert 'href="/settings/xero/">Reconnect Xero</a>' in page
    back = urlsplit(consent(admin, tenants=1))
    admin.get(f"{back.path}?{back.query}")
    done = admin.post(
        "/settings/xero/tenants/", {"tenant": list(xero.store.organisations)[:1]}, follow=True
    )
    said = "Reconnect Xero: Xero is connected (Demo Trades Pty Ltd). Sent 1 waiting handoff back"
    assert said in done.content.decode()
    item.refresh_from_db()
    assert (item.status, item.resolved_by.username) == (ReviewItem.Status.RESOLVED, "boss")
    # Sent back to the workers (one may already have taken it): no longer waiting on the item.
    assert HandoffRun.objects.get(pk=run.pk).review_item_id != item.pk
    # Let the worker finish with it before the database is emptied for the next test.
    wait_for(
        lambda: HandoffRun.objects.get(pk=run.pk).state not in ("pending", "running"),
        what="the worker to finish the resumed run",
    )
