"""The token the hub calls HubSpot with: the stored connection's, else HUBSPOT_ACCESS_TOKEN.

A private app token lasts until someone rotates it. An OAuth access token lasts 30 minutes:
it is refreshed once, under the connection's row lock, however many workers need one
(connectors/oauth.py). HubSpot refusing the refresh token marks the connection for
reconnecting, and every handoff that needs HubSpot waits on one "Reconnect HubSpot" item.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from connectors.errors import AuthExpired, Transient
from connectors.hubspot.limits import account
from connectors.hubspot.sdk import sdk
from connectors.models import HubSpotConnection
from connectors.oauth import token_fresh, token_renewed, tokens_take

SYSTEM = "hubspot"
# How often a connection's "last successful call" is written: not on every call.
SUCCESS_NOTE_SECONDS = 60


@dataclass(frozen=True)
class Credential:
    """A token to call HubSpot with, and the account its calls count against."""

    token: str
    account: str
    stored: bool  # from the hub's HubSpotConnection, not from the setting
    renewable: bool = False  # an OAuth access token: a refresh may give a working one


def credential() -> Credential:
    """Return the token for the next call, refreshing an OAuth token about to expire."""
    connection = HubSpotConnection.current()
    if connection is None:
        token = settings.HUBSPOT_ACCESS_TOKEN
        return Credential(token, account(token), stored=False)
    token = connection.access_token
    if connection.status != HubSpotConnection.Status.CONNECTED or not _usable(connection):
        token = token_renewed(
            locked=lambda: HubSpotConnection.objects.select_for_update().get(pk=connection.pk),
            still_good=_usable,
            refresh=_refresh,
            refused=reconnect_needed,
        )
    # Counted per HubSpot account: an OAuth token changes every 30 minutes, the account not.
    return Credential(
        token,
        account(f"hub:{connection.hub_id}"),
        stored=True,
        renewable=connection.kind == HubSpotConnection.Kind.OAUTH,
    )


def credential_renewed(refused: Credential) -> Credential | None:
    """The credential after HubSpot refused `refused` (a 401 although it looked fresh: the
    clocks disagree, or HubSpot ended it early): refreshed once for every worker that met
    the same refusal; a worker that meets it after another refreshed takes the new token.
    None when there is nothing to renew (a private app token, or no stored connection)."""
    connection = HubSpotConnection.current()
    if connection is None or not refused.renewable:
        return None
    token = token_renewed(
        locked=lambda: HubSpotConnection.objects.select_for_update().get(pk=connection.pk),
        still_good=lambda locked: locked.access_token != refused.token,
        refresh=_refresh,
        refused=reconnect_needed,
    )
    return Credential(token, refused.account, stored=True, renewable=True)


def _usable(connection: HubSpotConnection) -> bool:
    return connection.kind == HubSpotConnection.Kind.PRIVATE_APP or token_fresh(connection)


def _refresh(connection: HubSpotConnection) -> str:
    """Refresh and save the tokens; return why HubSpot refused, or "" when it did not."""
    try:
        token = sdk().oauth.tokens_api.create(
            grant_type="refresh_token",
            refresh_token=connection.refresh_token,
            client_id=settings.HUBSPOT_CLIENT_ID,
            client_secret=settings.HUBSPOT_CLIENT_SECRET,
            _request_timeout=settings.HUBSPOT_TIMEOUT_SECONDS,
        )
    except Exception as exc:  # the SDK's ApiException, or urllib3's errors
        text = f"{exc} {getattr(exc, 'body', '') or ''}"
        if getattr(exc, "status", None) in (400, 401):
            return text  # the refresh token (or the app's secret) is refused: no retry helps
        raise Transient(
            "HubSpot's token service did not answer.", system=SYSTEM, detail=text
        ) from exc
    tokens_take(connection, token.to_dict())
    connection.save()
    return ""


def reconnect_needed(connection: HubSpotConnection, detail: str) -> AuthExpired:
    """Mark the connection for reconnecting and say so.

    The error is the same root cause as HubSpot refusing a token (a 401): one item.
    """
    HubSpotConnection.objects.filter(
        pk=connection.pk, status=HubSpotConnection.Status.CONNECTED
    ).update(status=HubSpotConnection.Status.RECONNECT)
    return AuthExpired(
        "HubSpot no longer accepts the hub's connection: it refused to renew the access token.",
        system=SYSTEM,
        fix="An admin reconnects HubSpot from the hub's HubSpot page.",
        detail=detail,
    )


def success_note() -> None:
    """Record that a call with the stored connection worked (at most once a minute)."""
    now = timezone.now()
    HubSpotConnection.objects.filter(pk=1).exclude(
        last_success_at__gt=now - timedelta(seconds=SUCCESS_NOTE_SECONDS)
    ).update(last_success_at=now)
