"""The session's HubSpot sandbox reached through the hub's settings, and an admin."""

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.test import Client

from connectors import limits


@pytest.fixture
def hubspot_account(hubspot_sandbox, settings):
    """The session's HubSpot sandbox with fresh data, and no calls counted yet."""
    hubspot_sandbox.store.reset("demo")
    hubspot_sandbox.store.clear_faults()
    settings.HUBSPOT_API_BASE_URL = hubspot_sandbox.url
    settings.HUBSPOT_AUTHORIZE_URL = f"{hubspot_sandbox.url}/oauth/authorize"
    limits._counts.clear()
    sender = hubspot_sandbox.sender
    # These tests reach HubSpot alone: what they change sends no webhooks into the hub.
    sender.wait_idle()
    hub_url, sender.webhook_url = sender.webhook_url, ""
    yield hubspot_sandbox
    sender.wait_idle()
    sender.webhook_url = hub_url


@pytest.fixture
def admin(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("boss", is_staff=True))
    return client


def said(response) -> list[str]:
    """The messages the page shows."""
    return [str(m) for m in response.context["messages"]]


def install(admin: Client, sandbox, *, back: bool = True):
    """Press Install, agree on the sandbox's install page and come back to the hub: return
    the page the admin lands on (or, with back=False, the callback's path and query)."""
    to_hubspot = admin.post("/settings/hubspot/install/")
    assert to_hubspot.status_code == 302
    assert to_hubspot["Location"].startswith(f"{sandbox.url}/oauth/authorize?")
    query = dict(parse_qsl(urlsplit(to_hubspot["Location"]).query))
    assert "crm.schemas.deals.write" in query["scope"].split()
    agreed = requests.post(
        f"{sandbox.url}/oauth/authorize", data=query, allow_redirects=False, timeout=5
    )
    assert agreed.status_code == 302
    callback = urlsplit(agreed.headers["Location"])
    assert callback.path == "/settings/hubspot/callback/"
    if not back:
        return f"{callback.path}?{callback.query}"
    return admin.get(f"{callback.path}?{callback.query}", follow=True)
