"""Connecting HubSpot from the hub's HubSpot page: a private app token checked with HubSpot,
or the hub installed as an app (OAuth 2.0), tokens kept encrypted and renewed in time."""

import threading
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection as db_connection
from django.db import connections
from django.utils import timezone

from connectors.errors import AuthExpired
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.connect import REQUIRED_SCOPES
from connectors.hubspot.tokens import credential
from connectors.models import HubSpotConnection
from tests.connectors.hubspot.conftest import install, said

TOKEN_CALLS = "POST /oauth/v1/token"


def raw(column: str) -> str:
    """A column as the database holds it."""
    with db_connection.cursor() as cursor:
        cursor.execute(f"select {column} from connectors_hubspotconnection")  # noqa: S608
        return cursor.fetchone()[0]


def a_deal(sandbox) -> str:
    return sandbox.store.list("deals")[0]["id"]


def test_a_token_with_every_scope_is_checked_with_hubspot_and_kept_encrypted(
    hubspot_account, admin, settings
):
    hubspot_account.auth.private_app_add("pat-na1-good")
    page = admin.post("/settings/hubspot/token/", {"token": " pat-na1-good "}, follow=True)
    assert said(page) == ["Connected HubSpot account 62515 (Private app token)."]
    connection = HubSpotConnection.objects.get()
    assert (connection.kind, connection.status, connection.hub_id) == (
        "private_app",
        "connected",
        62515,
    )
    assert set(REQUIRED_SCOPES) <= set(connection.scopes.split())
    assert connection.access_token == "pat-na1-good" and "pat-na1-good" not in raw("access_token")
    # The hub calls HubSpot with the stored token now, whatever the setting says.
    settings.HUBSPOT_ACCESS_TOKEN = "no-longer-used"
    deal = a_deal(hubspot_account)
    assert HubSpotClient().deal_read(deal, ["dealname"])["dealname"]
    assert HubSpotConnection.objects.get().last_success_at is not None
    assert '"badge ok">Connected<' in admin.get("/settings/hubspot/").content.decode()


def test_a_token_hubspot_refuses_is_not_kept(hubspot_account, admin):
    page = admin.post("/settings/hubspot/token/", {"token": "pat-na1-unknown"}, follow=True)
    assert said(page) == [
        "HubSpot does not accept this token. Copy the access token again from the private "
        "app's Auth tab in HubSpot."
    ]
    assert not HubSpotConnection.objects.exists()


def test_a_token_missing_scopes_is_refused_naming_each_missing_one(hubspot_account, admin):
    scopes = [
        s
        for s in REQUIRED_SCOPES
        if s not in ("crm.objects.deals.write", "crm.schemas.deals.write")
    ]
    hubspot_account.auth.private_app_add("pat-na1-reader", tuple(scopes))
    page = admin.post("/settings/hubspot/token/", {"token": "pat-na1-reader"}, follow=True)
    (message,) = said(page)
    assert message.startswith(
        "The token is missing scopes the hub needs: crm.objects.deals.write, "
        "crm.schemas.deals.write. In HubSpot, open the private app's Scopes tab"
    )
    assert not HubSpotConnection.objects.exists()


def test_an_empty_token_gets_a_plain_answer_and_no_call(hubspot_account, admin):
    page = admin.post("/settings/hubspot/token/", {"token": "  "}, follow=True)
    assert said(page) == ["Paste the private app's access token."]
    assert not any(k.startswith("POST /oauth") for k in hubspot_account.store.requests)


def test_without_a_stored_connection_the_setting_token_is_used(hubspot_account, settings):
    deal = a_deal(hubspot_account)
    assert HubSpotClient().deal_read(deal, ["dealname"])["dealname"]
    settings.HUBSPOT_ACCESS_TOKEN = "not-a-token-hubspot-knows"
    with pytest.raises(AuthExpired):
        HubSpotClient().deal_read(deal, ["dealname"])


def test_installing_the_hub_as_an_app_keeps_tokens_that_work(hubspot_account, admin, settings):
    page = install(admin, hubspot_account)
    assert said(page) == [
        "Connected HubSpot account 62515 (OAuth 2.0 (the hub installed as an app))."
    ]
    connection = HubSpotConnection.objects.get()
    assert (connection.kind, connection.hub_id) == ("oauth", 62515)
    assert connection.refresh_token.startswith("sbx-refresh-")
    assert connection.refresh_token not in raw("refresh_token")
    assert timedelta(minutes=29) < connection.expires_at - timezone.now() <= timedelta(minutes=30)
    settings.HUBSPOT_ACCESS_TOKEN = "no-longer-used"
    assert HubSpotClient().deal_read(a_deal(hubspot_account), ["dealname"])["dealname"]


def test_a_callback_that_no_install_of_this_browser_asked_for_is_refused(hubspot_account, admin):
    callback = install(admin, hubspot_account, back=False)
    forged = callback.replace("state=", "state=forged")
    assert admin.get(forged).status_code == 400
    # The state is used once: the real answer after a refused one is refused too.
    assert admin.get(callback).status_code == 400
    assert not HubSpotConnection.objects.exists()


def test_a_code_hubspot_refuses_is_said_plainly(hubspot_account, admin):
    callback = install(admin, hubspot_account, back=False)
    code = dict(parse_qsl(urlsplit(callback).query))["code"]
    page = admin.get(callback.replace(code, "sbx-code-made-up"), follow=True)
    assert said(page) == [
        "HubSpot did not accept the installation (the code was refused or already used, or "
        "the app's client id and secret do not match). Check HUBSPOT_CLIENT_ID and "
        "HUBSPOT_CLIENT_SECRET, then press Install again."
    ]
    assert not HubSpotConnection.objects.exists()


def test_twenty_workers_meeting_an_expiring_token_cause_one_refresh(hubspot_account, admin):
    install(admin, hubspot_account)
    old = HubSpotConnection.objects.get().access_token
    # Within the minute before expiry: every worker wants a fresh one.
    HubSpotConnection.objects.update(expires_at=timezone.now() + timedelta(seconds=30))
    before = hubspot_account.store.requests[TOKEN_CALLS]
    tokens, errors = [], []

    def worker() -> None:
        try:
            tokens.append(credential().token)
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(tokens)) == 1 and tokens[0] != old
    assert hubspot_account.store.requests[TOKEN_CALLS] - before == 1
    connection = HubSpotConnection.objects.get()
    assert connection.expires_at - timezone.now() > timedelta(minutes=29)


def test_a_refresh_hubspot_refuses_marks_the_connection_for_reconnecting(hubspot_account, admin):
    install(admin, hubspot_account)
    HubSpotConnection.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    hubspot_account.auth.installs_revoke()
    with pytest.raises(AuthExpired) as refused:
        HubSpotClient().deal_read(a_deal(hubspot_account), ["dealname"])
    assert "refused to renew the access token" in refused.value.message
    assert "BAD_REFRESH_TOKEN" in refused.value.detail
    assert HubSpotConnection.objects.get().status == "reconnect_needed"
    # No second refresh while it waits for a person: the same answer, at once.
    before = hubspot_account.store.requests[TOKEN_CALLS]
    with pytest.raises(AuthExpired):
        credential()
    assert hubspot_account.store.requests[TOKEN_CALLS] == before
    page = admin.get("/settings/hubspot/").content.decode()
    assert '"badge bad">Reconnect needed<' in page


def test_a_token_hubspot_ended_early_is_renewed_once_and_the_call_goes_through(
    hubspot_account, admin
):
    install(admin, hubspot_account)
    before = hubspot_account.store.requests[TOKEN_CALLS]
    hubspot_account.auth.access_tokens.clear()  # HubSpot's clock ran ahead, or it ended it
    assert HubSpotClient().deal_read(a_deal(hubspot_account), ["dealname"])["dealname"]
    assert hubspot_account.store.requests[TOKEN_CALLS] - before == 1
    assert HubSpotConnection.objects.get().status == "connected"


def test_a_renewed_token_hubspot_also_refuses_marks_the_connection_for_reconnecting(
    hubspot_account, admin, monkeypatch
):
    install(admin, hubspot_account)
    monkeypatch.setattr(hubspot_account.auth, "accepts", lambda token: False)  # none let in
    with pytest.raises(AuthExpired):
        HubSpotClient().deal_read(a_deal(hubspot_account), ["dealname"])
    assert HubSpotConnection.objects.get().status == "reconnect_needed"


def test_a_private_app_token_hubspot_refuses_is_not_renewed(hubspot_account, admin):
    hubspot_account.auth.private_app_add("pat-na1-short-lived")
    admin.post("/settings/hubspot/token/", {"token": "pat-na1-short-lived"})
    before = hubspot_account.store.requests[TOKEN_CALLS]
    hubspot_account.auth.private_apps.pop("pat-na1-short-lived")  # rotated in HubSpot
    with pytest.raises(AuthExpired):
        HubSpotClient().deal_read(a_deal(hubspot_account), ["dealname"])
    assert hubspot_account.store.requests[TOKEN_CALLS] == before


def test_disconnecting_forgets_the_tokens_and_goes_back_to_the_setting(hubspot_account, admin):
    hubspot_account.auth.private_app_add("pat-na1-good")
    admin.post("/settings/hubspot/token/", {"token": "pat-na1-good"}, follow=True)
    page = admin.post("/settings/hubspot/disconnect/", follow=True)
    assert said(page) == ["Forgot the HubSpot connection and its tokens."]
    assert not HubSpotConnection.objects.exists()
    assert "HUBSPOT_ACCESS_TOKEN" in page.content.decode()
