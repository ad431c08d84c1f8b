"""Connecting HubSpot: a private app's token, or the hub installed as an app (OAuth 2.0).

A private app token is checked with HubSpot (which account, which scopes) before it is
kept. The OAuth flow: the admin presses Install → HubSpot's install page (with a `state`
kept in the session) → the callback swaps the code for tokens and asks HubSpot which
account and scopes they carry. Either way one HubSpotConnection row holds the tokens,
encrypted.
"""

from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils import timezone

from connectors import oauth
from connectors.errors import AuthExpired, ConnectorError, Invalid, Transient
from connectors.hubspot.sdk import sdk
from connectors.models import HubSpotConnection

SYSTEM = "hubspot"
# What the hub reads and writes: companies, contacts and deals (and their line items), and
# the custom properties it creates on deals and companies.
REQUIRED_SCOPES = (
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.line_items.read",
    "crm.schemas.companies.write",
    "crm.schemas.deals.write",
)
# HubSpot's docs: a private app token's account and scopes (the SDK has no call for it).
TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"


@dataclass(frozen=True)
class TokenInfo:
    """The HubSpot account a token reaches and the scopes it carries."""

    hub_id: int | None
    scopes: tuple[str, ...]

    @property
    def missing(self) -> list[str]:
        return [scope for scope in REQUIRED_SCOPES if scope not in self.scopes]


def _connection_save(*, kind: str, info: TokenInfo, token: dict) -> HubSpotConnection:
    connection = HubSpotConnection(
        pk=1,
        kind=kind,
        status=HubSpotConnection.Status.CONNECTED,
        hub_id=info.hub_id,
        scopes=" ".join(info.scopes),
        connected_at=timezone.now(),
    )
    oauth.tokens_take(connection, token)
    if kind == HubSpotConnection.Kind.PRIVATE_APP:
        connection.expires_at = None  # a private app token lasts until it is rotated
    connection.save()
    return connection


def _scopes_check(info: TokenInfo, *, fix: str) -> None:
    if info.missing:
        raise Invalid(
            f"The token is missing scopes the hub needs: {', '.join(info.missing)}.",
            system=SYSTEM,
            fix=fix,
            details={"missing": info.missing},
        )


def private_app_info(token: str) -> TokenInfo:
    """Ask HubSpot which account and scopes a private app token has."""
    try:
        answer = requests.post(
            settings.HUBSPOT_API_BASE_URL.rstrip("/") + TOKEN_INFO_PATH,
            json={"tokenKey": token},
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.HUBSPOT_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise Transient(
            "HubSpot could not be reached to check the token.", system=SYSTEM, detail=repr(exc)
        ) from exc
    detail = f"HTTP {answer.status_code}\n{answer.text}"
    if answer.status_code >= 500:
        raise Transient("HubSpot failed while checking the token.", system=SYSTEM, detail=detail)
    if answer.status_code != 200:
        raise AuthExpired(
            "HubSpot does not accept this token.",
            system=SYSTEM,
            fix="Copy the access token again from the private app's Auth tab in HubSpot.",
            detail=detail,
        )
    found = answer.json()
    return TokenInfo(found.get("hubId"), tuple(found.get("scopes") or ()))


def private_app_connect(token: str) -> HubSpotConnection:
    """Check a private app token with HubSpot and keep it, or say what is wrong with it."""
    token = token.strip()
    if not token:
        raise Invalid("Paste the private app's access token.", system=SYSTEM)
    info = private_app_info(token)
    _scopes_check(
        info,
        fix="In HubSpot, open the private app's Scopes tab, tick these, commit the change, "
        "then enter the token here again.",
    )
    return _connection_save(
        kind=HubSpotConnection.Kind.PRIVATE_APP, info=info, token={"access_token": token}
    )


def authorize_url(*, state: str, redirect_uri: str) -> str:
    """Return the address of HubSpot's page that installs the hub as an app."""
    return oauth.authorize_url(
        settings.HUBSPOT_AUTHORIZE_URL,
        client_id=settings.HUBSPOT_CLIENT_ID,
        redirect_uri=redirect_uri,
        scope=" ".join(("oauth", *REQUIRED_SCOPES)),
        state=state,
    )


def oauth_connect(*, code: str, redirect_uri: str) -> HubSpotConnection:
    """Swap the install's code for tokens, check what they reach, and keep them."""
    api = sdk()
    timeout = settings.HUBSPOT_TIMEOUT_SECONDS
    try:
        token = api.oauth.tokens_api.create(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            client_id=settings.HUBSPOT_CLIENT_ID,
            client_secret=settings.HUBSPOT_CLIENT_SECRET,
            _request_timeout=timeout,
        )
        found = api.oauth.access_tokens_api.get(token.access_token, _request_timeout=timeout)
    except Exception as exc:  # the SDK's ApiException, or urllib3's errors
        raise _refused(exc) from exc
    info = TokenInfo(found.hub_id, tuple(found.scopes or ()))
    _scopes_check(
        info, fix="Add these scopes to the app's Auth settings in HubSpot, then install again."
    )
    return _connection_save(kind=HubSpotConnection.Kind.OAUTH, info=info, token=token.to_dict())


def _refused(exc: Exception) -> ConnectorError:
    status = getattr(exc, "status", None)
    detail = f"{exc} {getattr(exc, 'body', '') or ''}"
    if not isinstance(status, int) or status >= 500:
        return Transient("HubSpot's token service did not answer.", system=SYSTEM, detail=detail)
    return AuthExpired(
        "HubSpot did not accept the installation (the code was refused or already used, or "
        "the app's client id and secret do not match).",
        system=SYSTEM,
        fix="Check HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET, then press Install again.",
        detail=detail,
    )


def disconnect() -> bool:
    """Forget the stored connection (the hub falls back to HUBSPOT_ACCESS_TOKEN)."""
    deleted, _ = HubSpotConnection.objects.filter(pk=1).delete()
    return bool(deleted)
