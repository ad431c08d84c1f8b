"""The sandbox's login.xero.com stand-in: the consent page a person sees when connecting."""

import uuid
from html import escape
from urllib.parse import urlencode

from connectors.sandbox.xero.store import Store

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f5f8fa;color:#1e3140}
main{max-width:34rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;
  border:1px solid #d3dde4}
h1{font-size:1.3rem}
button{font:inherit;padding:.4rem 1rem;border-radius:4px;border:1px solid #0b5cab;
  background:#0b5cab;color:#fff;cursor:pointer}
:focus{outline:3px solid #1e3140;outline-offset:2px}
"""


def consent_page(store: Store, query: dict) -> tuple[int, str]:
    """Return the page asking the person which organisations the app may reach."""
    wanted = {k: query.get(k, [""])[0] for k in ("client_id", "redirect_uri", "scope", "state")}
    if wanted["client_id"] != store.client_id:
        return 400, f"<p>Unknown client_id {escape(wanted['client_id'])}.</p>"
    if query.get("response_type", [""])[0] != "code" or not wanted["redirect_uri"]:
        return 400, "<p>response_type=code and a redirect_uri are required.</p>"
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in wanted.items()
    )
    choices = "".join(
        f'<p><label><input type="checkbox" name="tenant" value="{org.tenant_id}" checked> '
        f"{escape(org.name)}</label></p>"
        for org in store.organisations.values()
    )
    scopes = "".join(f"<li>{escape(s)}</li>" for s in wanted["scope"].split())
    return 200, (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Xero sandbox: allow access</title><style>{STYLE}</style></head><body><main>"
        "<h1>Integration hub wants to access your Xero organisations</h1>"
        f"<p>It asks for:</p><ul>{scopes}</ul>"
        f'<form method="post">{hidden}<fieldset><legend>Organisations to connect</legend>'
        f'{choices}</fieldset><p><button type="submit">Allow access</button></p></form>'
        "</main></body></html>"
    )


def consent_given(store: Store, form: dict[str, list[str]]) -> str:
    """Issue a one-time code for the chosen organisations; return where to send the person."""
    first = {k: form.get(k, [""])[0] for k in ("redirect_uri", "scope", "state")}
    tenants = [t for t in form.get("tenant", []) if t in store.organisations]
    if not tenants:
        refused = {"error": "access_denied", "state": first["state"]}
        return f"{first['redirect_uri']}?{urlencode(refused)}"
    code = uuid.uuid4().hex
    with store.lock:
        store.codes[code] = {
            "redirect_uri": first["redirect_uri"],
            "scope": first["scope"],
            "tenants": tenants,
        }
    return f"{first['redirect_uri']}?{urlencode({'code': code, 'state': first['state']})}"
