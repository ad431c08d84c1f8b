"""Xero access tokens: refreshed once, under a row lock, however many workers need one.

Xero refresh tokens are single-use: two workers refreshing with the same one make the
second fail with invalid_grant. So the refresh happens while holding the connection's
row lock (connectors/oauth.py). A token Xero refuses (401, e.g. its clock says the token
expired before the hub's does) is renewed the same way, once for all the workers it refused.
"""

from django.conf import settings
from xero_python.api_client.oauth2 import TokenApi

from connectors.errors import AuthExpired, Transient
from connectors.models import XeroConnection
from connectors.oauth import token_fresh, token_renewed, tokens_take
from connectors.xero.client import api_client

SYSTEM = "xero"


def _token_api() -> TokenApi:
    client = api_client(
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        token_getter=dict,
        token_saver=lambda token: None,
    )
    api = TokenApi(client, settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET)
    # The token URLs are class attributes of TokenApi; set them on this instance only.
    api.refresh_token_url = settings.XERO_TOKEN_URL
    api.client_credentials_token_url = settings.XERO_TOKEN_URL
    return api


def reconnect_needed(
    connection: XeroConnection, detail: str, *, whole_grant: bool = True
) -> AuthExpired:
    """Mark the connection (and the tenants sharing its grant) for reconnecting; say so.

    The error names the organisations and carries what the one "Reconnect Xero" item of
    their grant (one consent, one token pair) needs. `whole_grant=False` marks this
    organisation only (Xero refused it alone: 403).
    """
    sharing = XeroConnection.objects.filter(pk=connection.pk)
    if connection.grant and whole_grant:
        sharing = XeroConnection.objects.filter(grant=connection.grant)
    sharing.filter(status=XeroConnection.Status.CONNECTED).update(
        status=XeroConnection.Status.RECONNECT
    )
    tenants = dict(sharing.order_by("tenant_name").values_list("tenant_id", "tenant_name"))
    names = " and ".join(tenants.values()) or connection.tenant_name
    return AuthExpired(
        f"Xero no longer accepts the hub's connection to {names}.",
        system=SYSTEM,
        fix=f"An admin reconnects {names} from the hub's Xero page.",
        detail=detail,
        code="reconnect",
        details={
            "organisations": list(tenants.values()),
            "tenant_ids": list(tenants),
            "root": f"reconnect:{connection.grant or connection.tenant_id}",
        },
    )


def access_token(connection_id: int) -> str:
    """Return a usable access token for the connection, refreshing it if it is about to expire."""
    connection = XeroConnection.objects.get(pk=connection_id)
    if connection.status == XeroConnection.Status.CONNECTED and token_fresh(connection):
        return connection.access_token
    # Another worker may have refreshed it while we waited for the lock.
    return _renewed(connection_id, still_good=token_fresh)


def access_token_renew(connection_id: int, *, refused: str) -> str:
    """Return a new access token in place of one Xero refused (401), refreshing at most once.

    Under the lock, a token other than the refused one means another worker renewed it
    already: that one is used, so twenty workers refused at once make one refresh.
    """
    return _renewed(connection_id, still_good=lambda c: c.access_token != refused)


def _renewed(connection_id: int, *, still_good) -> str:
    """Refresh under the row lock, unless the token is `still_good`; or say why Xero refuses."""
    return token_renewed(
        locked=lambda: _locked(XeroConnection.objects.get(pk=connection_id)),
        still_good=still_good,
        refresh=_refresh,
        refused=reconnect_needed,
    )


def _locked(connection: XeroConnection) -> XeroConnection:
    """Lock the connection and every tenant sharing its grant (in pk order); re-read it."""
    if connection.grant:
        list(
            XeroConnection.objects.select_for_update()
            .filter(grant=connection.grant)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return XeroConnection.objects.select_for_update().get(pk=connection.pk)


def _refresh(connection: XeroConnection) -> str:
    """Refresh and save the tokens; return why Xero refused, or "" when it did not."""
    api = _token_api()
    try:
        if connection.kind == XeroConnection.Kind.CUSTOM:
            token = api.get_client_credentials_token(app_store_billing=False)
        else:
            token = api.refresh_token(connection.refresh_token, connection.scopes.split())
    except Exception as exc:  # the SDK raises plain Exception or ApiException here
        text = f"{exc} {getattr(exc, 'body', '')}"
        if "invalid_grant" in text or "invalid_client" in text:
            return text
        raise Transient("Xero's token service did not answer.", system=SYSTEM, detail=text) from exc
    tokens_take(connection, token)
    connection.save()
    if connection.grant:
        sharing = XeroConnection.objects.filter(grant=connection.grant).exclude(pk=connection.pk)
        for other in sharing:
            tokens_copy(connection, other)
    return ""


def tokens_copy(source: XeroConnection, target: XeroConnection) -> None:
    """Give target the source's tokens (tenants of one grant share them)."""
    for name in ("access_token", "refresh_token", "expires_at", "refreshed_at", "scopes"):
        setattr(target, name, getattr(source, name))
    target.save()
