"""Settings as production and the demo load them: HTTPS, `check --deploy`, safe URLs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from integration_hub.env import env_http_url

ROOT = Path(__file__).resolve().parents[1]
# Passed on from the test run: where the services are, and the key that encrypts tokens.
SERVICES = ("PATH", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEYS")


def environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Return a production-like environment: nothing of the test run's but its services."""
    return {name: os.environ[name] for name in SERVICES if name in os.environ} | {
        "HUB_DEMO": "0",
        "SECRET_KEY": "hN3!qT8@vL1#pZ6$wK9%rB2^sJ5&xF0*mC4(dG7)yE-a-real-length-key",
        "ALLOWED_HOSTS": "hub.example.com",
        "HUB_VAR_DIR": str(tmp_path),
        **overrides,
    }


def manage(tmp_path: Path, *args: str, **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(tmp_path, **overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def loaded(tmp_path: Path, **overrides: str) -> dict:
    """Return the HTTPS settings a fresh process loads with this environment."""
    names = [
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
    ]
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment(tmp_path, DJANGO_SETTINGS_MODULE="integration_hub.settings", **overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_check_deploy_finds_nothing_to_warn_about_in_production(tmp_path):
    done = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_production_is_https_only_by_default_and_each_part_can_be_turned_off(tmp_path):
    assert loaded(tmp_path) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
    }
    off = loaded(
        tmp_path,
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        SECURE_HSTS_PRELOAD="0",
    )
    assert off == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": True,
    }


def test_the_demo_stays_on_plain_http_without_debug_pages(tmp_path):
    demo = loaded(tmp_path, HUB_DEMO="1", SECRET_KEY="", ALLOWED_HOSTS="")
    assert (demo["SECURE_SSL_REDIRECT"], demo["SECURE_HSTS_SECONDS"]) == (False, 0)
    assert (demo["DEBUG"], demo["SESSION_COOKIE_SECURE"]) == (False, False)


@pytest.mark.django_db
def test_a_missing_page_is_the_hubs_own_page(client, office_staff):
    client.force_login(office_staff)
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "There is no such page" in page and "/no-such-page/" in page
    assert "Review queue</a>" in page  # the hub's menu, to go on from


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.django_db
def test_behind_a_tls_proxy_pages_redirect_but_healthz_and_webhooks_answer(https_only):
    client = Client()
    page = client.get("/review/")
    assert (page.status_code, page["Location"]) == (301, "https://testserver/review/")
    # A load balancer's probe over plain http inside the network is answered, not redirected.
    assert client.get("/healthz").status_code in (200, 503)
    # Vendors reach the webhooks over https, which the proxy says in X-Forwarded-Proto.
    xero = client.post(
        "/webhooks/xero/",
        b"{}",
        content_type="application/json",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_XERO_SIGNATURE="forged",
    )
    assert (xero.status_code, xero.content) == (401, b"")
    assert xero["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_chat_webhook_must_be_http_or_https(monkeypatch):
    for good in ("https://hooks.slack.com/services/T0/B0/x", "http://chat.internal/hook"):
        monkeypatch.setenv("CHAT", good)
        assert env_http_url("CHAT") == good
    monkeypatch.delenv("CHAT")
    assert env_http_url("CHAT") == ""
    for bad in ("file:///etc/passwd", "ftp://files.example/x", "data:,hello", "hooks.slack.com/x"):
        monkeypatch.setenv("CHAT", bad)
        with pytest.raises(ImproperlyConfigured, match="must be an http:// or https:// URL"):
            env_http_url("CHAT")


def test_the_hub_does_not_start_with_a_chat_webhook_of_another_scheme(tmp_path):
    done = manage(tmp_path, "check", REVIEW_CHAT_WEBHOOK_URL="file:///etc/passwd?token=s3cret")
    assert done.returncode != 0
    assert "REVIEW_CHAT_WEBHOOK_URL must be an http:// or https:// URL" in done.stderr
    assert "s3cret" not in done.stderr  # the URL may hold a token: only its scheme is named
