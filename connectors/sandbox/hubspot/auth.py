"""Who may call the sandbox, and how a token is had: private app tokens and OAuth 2.0.

The token given at start is a private app token with every scope the hub asks for; tests
add others (`private_app_add`). An app install goes through the install page
(`/oauth/authorize`), the token endpoint (`/oauth/v1/token`: authorization_code and
refresh_token grants) and the token-info endpoints, answering as HubSpot does.
"""

import re
import secrets
import threading
import time
from html import escape
from urllib.parse import urlencode

from connectors.sandbox.hubspot.answers import Answer, error

# Every scope a token of the sandbox's own private app has.
SCOPES = (
    "oauth",
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
ACCESS_SECONDS = 1800


def _oauth_error(status: str, message: str) -> Answer:
    """HubSpot's token endpoint refusal (400), with the OAuth 2.0 error name beside it."""
    return Answer(
        400,
        {
            "status": status,
            "message": message,
            "error": "invalid_grant",
            "error_description": message,
            "correlationId": secrets.token_hex(8),
        },
    )


class Auth:
    """The sandbox's tokens: private apps, install codes, refresh and access tokens."""

    def __init__(self, *, access_token: str, client_id: str, client_secret: str, hub_id: int):
        self.lock = threading.Lock()
        self.client_id, self.client_secret, self.hub_id = client_id, client_secret, hub_id
        self.private_apps: dict[str, tuple[str, ...]] = {access_token: SCOPES}
        self.codes: dict[str, tuple[str, tuple[str, ...]]] = {}  # code: (redirect, scopes)
        self.refresh_tokens: dict[str, tuple[str, ...]] = {}
        self.access_tokens: dict[str, tuple[float, tuple[str, ...]]] = {}  # token: (until, ...)

    # Switches for tests and the console ----------------------------------------------

    def private_app_add(self, token: str, scopes: tuple[str, ...] = SCOPES) -> None:
        """Make a private app token with these scopes."""
        with self.lock:
            self.private_apps[token] = tuple(scopes)

    def installs_revoke(self) -> None:
        """Forget every refresh and access token of an install (the app was uninstalled)."""
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    def accepts(self, token: str) -> bool:
        """Whether an API call with this bearer token is let in."""
        with self.lock:
            if token in self.private_apps:
                return True
            until, _ = self.access_tokens.get(token, (0.0, ()))
            return until > time.time()

    # The install page --------------------------------------------------------------------

    def install_page(self, query: dict) -> str:
        """HubSpot's page where an admin agrees to install the app."""
        given = {name: (query.get(name) or [""])[0] for name in ("client_id", "redirect_uri")}
        scopes = (query.get("scope") or [""])[0].split()
        if given["client_id"] != self.client_id or not given["redirect_uri"]:
            return "<h1>Install failed</h1><p>Unknown client_id or no redirect_uri.</p>"
        hidden = "".join(
            f'<input type="hidden" name="{escape(n)}" value="{escape((query.get(n) or [""])[0])}">'
            for n in ("client_id", "redirect_uri", "scope", "state")
        )
        listed = "".join(f"<li>{escape(s)}</li>" for s in scopes)
        return (
            "<!doctype html><title>Install app</title><h1>Install the app in account "
            f"{self.hub_id}?</h1><p>It asks for:</p><ul>{listed}</ul>"
            f'<form method="post" action="/oauth/authorize">{hidden}'
            '<button type="submit">Connect app</button></form>'
        )

    def install_grant(self, form: dict) -> str:
        """The admin agreed: return where HubSpot sends the browser (with the code)."""
        if form.get("client_id") != self.client_id:
            raise error(400, "BAD_CLIENT_ID", "Unknown client_id")
        code = f"sbx-code-{secrets.token_hex(8)}"
        with self.lock:
            self.codes[code] = (form["redirect_uri"], tuple(form.get("scope", "").split()))
        return f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form.get('state', '')})}"

    # API routes ---------------------------------------------------------------------------

    def routes(self) -> list:
        return [
            ("POST", re.compile(r"^/oauth/v1/token$"), self.token),
            ("GET", re.compile(r"^/oauth/v1/access-tokens/([^/]+)$"), self.access_token_info),
            (
                "POST",
                re.compile(r"^/oauth/v2/private-apps/get/access-token-info$"),
                self.private_app_info,
            ),
        ]

    def token(self, query: dict, form: dict) -> tuple[int, dict]:
        """Issue tokens for an install's code, or a new access token for a refresh token."""
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            raise _oauth_error("BAD_CLIENT_ID", "missing or invalid client id or secret")
        grant = form.get("grant_type")
        with self.lock:
            if grant == "authorization_code":
                redirect, scopes = self.codes.pop(form.get("code", ""), ("", ()))
                if not redirect or redirect != form.get("redirect_uri"):
                    raise _oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
                refresh = f"sbx-refresh-{secrets.token_hex(8)}"
                self.refresh_tokens[refresh] = scopes
            elif grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                if refresh not in self.refresh_tokens:
                    raise _oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
                scopes = self.refresh_tokens[refresh]
            else:
                raise _oauth_error("BAD_GRANT_TYPE", f"unsupported grant_type {grant}")
            access = f"sbx-access-{secrets.token_hex(8)}"
            self.access_tokens[access] = (time.time() + ACCESS_SECONDS, scopes)
        return 200, {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_SECONDS,
            "hub_id": self.hub_id,
            "scopes": list(scopes),
        }

    def access_token_info(self, query: dict, body, token: str) -> tuple[int, dict]:
        """What an install's access token reaches."""
        with self.lock:
            until, scopes = self.access_tokens.get(token, (0.0, ()))
        if until <= time.time():
            raise error(404, "NOT_FOUND", "The access token is unknown or expired")
        return 200, {
            "token": token,
            "user": "admin@demo-trades.example",
            "hub_domain": "demo-trades.example",
            "scopes": list(scopes),
            "hub_id": self.hub_id,
            "app_id": 54321,
            "expires_in": int(until - time.time()),
            "user_id": 1,
            "token_type": "access",
        }

    def private_app_info(self, query: dict, body: dict) -> tuple[int, dict]:
        """What a private app token reaches (HubSpot's private-apps token-info endpoint)."""
        with self.lock:
            scopes = self.private_apps.get(str((body or {}).get("tokenKey", "")))
        if scopes is None:
            raise error(
                401,
                "INVALID_AUTHENTICATION",
                "The private app token is invalid, expired or deleted.",
            )
        return 200, {"userId": 1, "hubId": self.hub_id, "appId": 111111, "scopes": list(scopes)}
