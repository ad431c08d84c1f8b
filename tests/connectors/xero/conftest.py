"""A Xero sandbox the hub reaches through its settings, and a connection to it."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from connectors import limits
from connectors.models import XeroConnection


@pytest.fixture
def xero(xero_sandbox, settings):
    """The session's Xero sandbox with fresh books, and no calls counted yet."""
    xero_sandbox.store.reset()
    xero_sandbox.store.faults = {}
    settings.XERO_AUTHORIZE_URL = f"{xero_sandbox.url}/identity/connect/authorize"
    settings.XERO_IDENTITY_URL = xero_sandbox.url
    settings.XERO_TOKEN_URL = f"{xero_sandbox.url}/connect/token"
    settings.XERO_API_BASE_URL = f"{xero_sandbox.url}/api.xro/2.0"
    limits._counts.clear()
    store, sender = xero_sandbox.store, xero_sandbox.sender
    kept = (store.minute_limit, store.day_limit, store.concurrent_limit)
    # These tests reach Xero alone: the contacts they make send no webhooks into the hub.
    sender.wait_idle()
    hub_url, sender.webhook_url = sender.webhook_url, ""
    yield xero_sandbox
    sender.wait_idle()
    sender.webhook_url = hub_url
    store.faults = {}
    store.minute_limit, store.day_limit, store.concurrent_limit = kept


@pytest.fixture
def organisation(xero) -> XeroConnection:
    """Demo Trades Pty Ltd, connected with tokens the sandbox issued."""
    tokens = xero.store.issue_tokens()
    return XeroConnection.objects.create(
        tenant_id=next(iter(xero.store.organisations)),
        tenant_name="Demo Trades Pty Ltd",
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=timezone.now() + timedelta(minutes=30),
        refreshed_at=timezone.now(),
        scopes="offline_access accounting.contacts",
    )


@pytest.fixture
def admin(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user("boss", is_staff=True))
    return client


def consent(admin: Client, *, tenants: int | None = None, scopes: str = "") -> str:
    """Press Connect, allow access on the sandbox's consent page; return the callback URL."""
    scopes = scopes or "offline_access accounting.invoices accounting.payments"
    to_xero = admin.post("/settings/xero/connect/", {"scopes": scopes})
    assert to_xero.status_code == 302
    page = requests.get(to_xero["Location"], timeout=5)
    assert "Allow access" in page.text and "accounting.payments" in page.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(to_xero["Location"]).query).items()}
    all_tenants = [
        line.split('value="')[1].split('"')[0]
        for line in page.text.split("<input")
        if 'name="tenant"' in line
    ]
    allowed = requests.post(
        to_xero["Location"],
        data={**query, "tenant": all_tenants[:tenants]},
        allow_redirects=False,
        timeout=5,
    )
    assert allowed.status_code == 302
    return allowed.headers["Location"]


def reconnect(admin: Client, xero, *, tenants: int = 1):
    """Connect the first `tenants` organisations again; return the page the admin lands on."""
    back = urlsplit(consent(admin, tenants=tenants))
    admin.get(f"{back.path}?{back.query}")
    chosen = list(xero.store.organisations)[:tenants]
    return admin.post("/settings/xero/tenants/", {"tenant": chosen}, follow=True)


def workers_run(xero, connection: XeroConnection, *, processes: int, calls: int) -> list[dict]:
    """Run worker processes that each make `calls` calls through the hub's limiter at once."""
    db = django_settings.DATABASES["default"]
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "XERO_API_BASE_URL": f"{xero.url}/api.xro/2.0",
        "XERO_TOKEN_URL": f"{xero.url}/connect/token",
    }
    start = f"{timezone.now().timestamp() + 3:.3f}"  # all begin together, once started
    command = [sys.executable, "-m", "tests.connectors.xero.burst", str(connection.pk), str(calls)]
    running = [
        subprocess.Popen([*command, start], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    results = []
    for process in running:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results
