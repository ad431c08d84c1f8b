"""Connecting Xero organisations: OAuth 2.0 authorization code, Custom Connections, disconnect.

The flow: the admin presses Connect → Xero's consent page (with a `state` kept in the
session) → the callback exchanges the code for tokens → the hub lists the tenants the
consent reached (/connections) → the admin picks the ones to connect.
"""

import time
import uuid
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from xero_python.identity import IdentityApi

from connectors import oauth
from connectors.errors import AuthExpired, Invalid
from connectors.models import XeroConnection
from connectors.xero.client import api_client
from connectors.xero.errors import translate
from connectors.xero.organisations import default_kept, organisations_connected
from connectors.xero.tokens import _token_api, access_token

SYSTEM = "xero"


def authorize_url(*, state: str, scopes: str, redirect_uri: str) -> str:
    """Return the address of Xero's consent page for these scopes."""
    return oauth.authorize_url(
        settings.XERO_AUTHORIZE_URL,
        response_type="code",
        client_id=settings.XERO_CLIENT_ID,
        redirect_uri=redirect_uri,
        scope=scopes,
        state=state,
    )


def code_exchange(*, code: str, redirect_uri: str) -> dict:
    """Swap the authorization code for tokens (xero-python has no call for this step)."""
    try:
        answer = requests.post(
            settings.XERO_TOKEN_URL,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
            timeout=15,
        )
    except requests.RequestException as exc:
        raise AuthExpired(
            "Xero's token service could not be reached.", system=SYSTEM, detail=repr(exc)
        ) from exc
    if answer.status_code != 200:
        raise AuthExpired(
            "Xero did not accept the connection (the code was refused or already used).",
            system=SYSTEM,
            fix="Press Connect again.",
            detail=f"HTTP {answer.status_code}\n{answer.text}",
        )
    return answer.json()


def _identity(access_token: str) -> IdentityApi:
    client = api_client(
        client_id=settings.XERO_CLIENT_ID,
        client_secret=settings.XERO_CLIENT_SECRET,
        # The token was just issued or refreshed: xero-python must not refresh it itself.
        token_getter=lambda: {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 1800,
            "expires_at": time.time() + 1800,
            "scope": [],
        },
        token_saver=lambda token: None,
    )
    return IdentityApi(client, base_url=settings.XERO_IDENTITY_URL)


def tenants_list(access_token: str) -> list[dict]:
    """Return the organisations the token reaches: id, tenant id and name."""
    try:
        found = _identity(access_token).get_connections()
    except Exception as exc:
        raise translate(exc, what="listing the connected organisations") from exc
    return [
        {"connection_id": c.id, "tenant_id": c.tenant_id, "tenant_name": c.tenant_name}
        for c in found
        if c.tenant_type == "ORGANISATION"
    ]


@transaction.atomic
def tenants_connect(
    *, token: dict, tenants: list[dict], kind: str = XeroConnection.Kind.OAUTH
) -> list[XeroConnection]:
    """Save a connection per chosen tenant; tenants of one consent share the token pair."""
    if not tenants:
        raise Invalid("Choose at least one organisation to connect.", system=SYSTEM)
    grant = uuid.uuid4().hex if kind == XeroConnection.Kind.OAUTH else ""
    before = organisations_connected()
    saved = []
    for tenant in tenants:
        connection, _ = XeroConnection.objects.update_or_create(
            tenant_id=tenant["tenant_id"],
            defaults={
                "tenant_name": tenant["tenant_name"],
                "connection_id": tenant["connection_id"],
                "grant": grant,
                "kind": kind,
                "status": XeroConnection.Status.CONNECTED,
                "scopes": token.get("scope", "")
                if isinstance(token.get("scope"), str)
                else " ".join(token.get("scope") or []),
                "access_token": token["access_token"],
                "refresh_token": token.get("refresh_token", ""),
                "expires_at": timezone.now()
                + timedelta(seconds=int(token.get("expires_in", 1800))),
                "connected_at": timezone.now(),
                "refreshed_at": timezone.now(),
            },
        )
        saved.append(connection)
    default_kept(before)
    return saved


def custom_connect() -> list[XeroConnection]:
    """Connect through a Custom Connection: client credentials reach exactly one organisation."""
    try:
        token = _token_api().get_client_credentials_token(app_store_billing=False)
    except Exception as exc:
        raise AuthExpired(
            "Xero refused the Custom Connection's client id and secret.",
            system=SYSTEM,
            fix="Check XERO_CLIENT_ID and XERO_CLIENT_SECRET against the app in Xero.",
            detail=f"{exc} {getattr(exc, 'body', '')}",
        ) from exc
    tenants = tenants_list(token["access_token"])
    return tenants_connect(token=token, tenants=tenants, kind=XeroConnection.Kind.CUSTOM)


def disconnect(connection: XeroConnection) -> str:
    """Remove the connection at Xero (when it still answers) and forget the tokens here."""
    said = "Disconnected."
    if connection.status == XeroConnection.Status.CONNECTED and connection.connection_id:
        try:
            _identity(access_token(connection.pk)).delete_connection(connection.connection_id)
        except Exception as exc:  # noqa: BLE001 (the hub forgets the tokens either way)
            said = (
                f"Disconnected here; Xero did not confirm ({translate(exc, what='disconnecting')})."
            )
    connection.status = XeroConnection.Status.DISCONNECTED
    connection.access_token = connection.refresh_token = ""
    connection.expires_at = None
    connection.save()
    return said
