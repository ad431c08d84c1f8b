"""Xero tokens: encrypted at rest, rotated keys, one refresh for many workers, invalid_grant."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from connectors.errors import AuthExpired
from connectors.models import XeroConnection
from connectors.xero.tokens import access_token


class TokenEndpoint(BaseHTTPRequestHandler):
    """Xero's token endpoint as far as refreshing goes: refresh tokens are single-use."""

    calls = 0
    valid = {"refresh-1"}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        with self.lock:
            type(self).calls += 1
            used = form["refresh_token"][0]
            ok = used in self.valid
            self.valid.discard(used)
            number = type(self).calls
            if ok:
                self.valid.add(f"refresh-{number + 1}")
        body = (
            {
                "access_token": f"access-{number}",
                "refresh_token": f"refresh-{number + 1}",
                "expires_in": 1800,
                "token_type": "Bearer",
            }
            if ok
            else {"error": "invalid_grant"}
        )
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def token_endpoint(settings):
    TokenEndpoint.calls, TokenEndpoint.valid = 0, {"refresh-1"}
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.XERO_TOKEN_URL = f"http://127.0.0.1:{server.server_port}/connect/token"
    yield
    server.shutdown()


def expired_connection() -> XeroConnection:
    return XeroConnection.objects.create(
        tenant_id="tenant-1",
        tenant_name="Demo Trades Pty Ltd",
        access_token="access-0",
        refresh_token="refresh-1",
        expires_at=timezone.now() - timedelta(minutes=1),
        scopes="offline_access accounting.invoices",
    )


def raw(column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM connectors_xeroconnection")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_tokens_are_stored_encrypted_and_read_back_plain():
    connection_ = expired_connection()
    assert "refresh-1" not in raw("refresh_token")
    assert XeroConnection.objects.get(pk=connection_.pk).refresh_token == "refresh-1"


@pytest.mark.django_db
def test_a_new_key_reads_old_secrets_and_reencrypt_moves_them_to_it(settings):
    expired_connection()
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert XeroConnection.objects.get().refresh_token == "refresh-1"
    call_command("reencrypt_secrets")
    assert Fernet(new).decrypt(raw("refresh_token").encode()) == b"refresh-1"
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert XeroConnection.objects.get().access_token == "access-0"


@pytest.mark.django_db(transaction=True)
def test_twenty_workers_meeting_an_expired_token_cause_one_refresh(token_endpoint):
    connection_id = expired_connection().pk
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(access_token(connection_id))
        except Exception as error:  # noqa: BLE001 (collected and asserted below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert TokenEndpoint.calls == 1
    assert results == ["access-1"] * 20
    saved = XeroConnection.objects.get(pk=connection_id)
    assert (saved.refresh_token, saved.status) == ("refresh-2", "connected")


@pytest.mark.django_db
def test_invalid_grant_marks_the_connection_for_reconnecting(token_endpoint):
    connection_ = expired_connection()
    TokenEndpoint.valid = set()  # the refresh token was already used, or revoked
    with pytest.raises(AuthExpired, match="no longer accepts"):
        access_token(connection_.pk)
    assert XeroConnection.objects.get(pk=connection_.pk).status == "reconnect_needed"
    with pytest.raises(AuthExpired):
        access_token(connection_.pk)
    assert TokenEndpoint.calls == 1  # waiting handoffs do not hammer the token endpoint
