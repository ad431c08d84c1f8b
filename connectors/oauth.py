"""What connecting Xero and HubSpot through OAuth 2.0 have in common.

The consent page's state, and access tokens refreshed once however many workers need
one: the refresh happens while holding the connection's row lock, and the token is read
again after taking the lock, so the workers that waited find it already fresh.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from django.db import models, transaction
from django.utils import timezone

# Refresh a little before expiry, as the vendors' SDKs themselves would.
MARGIN = timedelta(seconds=60)
CONNECTED = "connected"


def state_new() -> str:
    """Return an unguessable state for one trip to a vendor's consent page."""
    return secrets.token_urlsafe(24)


def state_matches(session, key: str, given: str | None) -> bool:
    """Whether the consent page's answer carries the state kept under `key` (used once)."""
    expected = session.pop(key, None)
    return bool(expected) and given == expected


def authorize_url(base: str, **query: str) -> str:
    """Return the address of a consent page with these query parameters."""
    return f"{base}?{urlencode(query)}"


def token_fresh(connection: models.Model) -> bool:
    """Whether the connection's access token is good for at least another minute."""
    return bool(
        connection.access_token
        and connection.expires_at
        and connection.expires_at - MARGIN > timezone.now()
    )


def tokens_take(connection: models.Model, token: dict) -> None:
    """Put a token endpoint's answer on the connection (unsaved); a refresh token that did
    not change may be left out of the answer."""
    connection.access_token = token["access_token"]
    connection.refresh_token = token.get("refresh_token") or connection.refresh_token
    connection.expires_at = timezone.now() + timedelta(seconds=int(token.get("expires_in") or 1800))
    connection.refreshed_at = timezone.now()


def token_renewed(
    *,
    locked: Callable[[], models.Model],
    still_good: Callable[[models.Model], bool],
    refresh: Callable[[models.Model], str],
    refused: Callable[[models.Model, str], Exception],
) -> str:
    """Return an access token, refreshed under the row lock unless it is `still_good`.

    `locked` locks and re-reads the connection; `refresh` saves new tokens and returns ""
    or says why the vendor refused; `refused` is the error to raise then (also for a
    connection marked for reconnecting earlier, whose item already holds the vendor's answer).
    """
    with transaction.atomic():
        connection = locked()
        if connection.status != CONNECTED:
            refusal = ""
        elif still_good(connection):
            return connection.access_token
        else:
            refusal = refresh(connection)
            if not refusal:
                return connection.access_token
    # Outside the refresh's transaction, so the mark stays when the error propagates.
    raise refused(connection, refusal)
