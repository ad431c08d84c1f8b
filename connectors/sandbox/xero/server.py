"""Serving the Xero sandbox: the WSGI app and start/stop helpers."""

import json
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer, make_server

from connectors.sandbox.hubspot.server import QuietHandler, ThreadingServer
from connectors.sandbox.xero import console, identity
from connectors.sandbox.xero.app import PREFIX, Answer, Api, parse_form
from connectors.sandbox.xero.store import Store
from connectors.sandbox.xero.webhooks import XeroSender


def _identity(api: Api, method: str, path: str, environ, raw: bytes, headers: dict):
    """login.xero.com, identity.xero.com and /connections: (status, body, headers, type)."""
    store = api.store
    if path == "/identity/connect/authorize" and method == "GET":
        status, html = identity.consent_page(store, parse_qs(environ.get("QUERY_STRING", "")))
        return status, html, {}, "text/html; charset=utf-8"
    if path == "/identity/connect/authorize" and method == "POST":
        target = identity.consent_given(store, parse_qs(raw.decode()))
        return 302, "", {"Location": target}, "text/html"
    if path == "/connect/token" and method == "POST":
        return (*api.token(parse_form(raw), headers), {}, "application/json")
    if path.lower() == "/connections" and method == "GET":
        return (*api.connections(headers), {}, "application/json")
    if path.lower().startswith("/connections/") and method == "DELETE":
        return (*api.connection_delete(headers, path.split("/")[-1]), {}, "application/json")
    return None


def make_app(store: Store, sender: XeroSender):
    """Return the WSGI app: identity, the Accounting API, and the console at /."""
    api = Api(store)

    def app(environ, start):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        extra, content_type = {}, "application/json"
        try:
            answered = _identity(api, method, path, environ, raw, headers)
            if answered:
                status, body, extra, content_type = answered
            elif path.startswith(PREFIX):
                query = parse_qs(environ.get("QUERY_STRING", ""))
                status, body, extra = api.accounting(
                    method, path[len(PREFIX) :], query, headers, raw
                )
            elif path == "/" and method == "GET":
                status, content_type = 200, "text/html; charset=utf-8"
                body = console.page(store, sender.log, sender.webhook_url)
            elif path.startswith("/console/") and method == "POST":
                console.act(store, path.split("/")[2:], parse_form(raw))
                status, body, extra, content_type = 303, "", {"Location": "/"}, "text/html"
            else:
                status, body = 404, {"Title": "Not Found"}
        except Answer as answer:
            status, body, extra = answer.status, answer.body, answer.headers
        except (KeyError, ValueError) as error:
            status, body = 400, {"Title": "Bad Request", "Detail": str(error)}
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        if status == 204:
            data = b""
        start(
            f"{status} {'OK' if status < 400 else 'Error'}",
            [("Content-Type", content_type), ("Content-Length", str(len(data))), *extra.items()],
        )
        return [data]

    return app


@dataclass
class XeroSandbox:
    """A running Xero sandbox."""

    url: str
    store: Store
    server: WSGIServer
    sender: XeroSender

    def stop(self) -> None:
        self.sender.stop()
        self.server.shutdown()
        self.server.server_close()


def build(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    client_id: str,
    client_secret: str,
    minute_limit: int = 60,
    webhook_url: str = "",
    webhook_key: str = "",
) -> XeroSandbox:
    """Make a Xero sandbox (not yet serving)."""
    store = Store(client_id=client_id, client_secret=client_secret, minute_limit=minute_limit)
    server = make_server(host, port, lambda e, s: app(e, s), ThreadingServer, QuietHandler)
    url = f"http://{host}:{server.server_port}"
    sender = XeroSender(webhook_url=webhook_url, webhook_key=webhook_key, api_url=f"{url}{PREFIX}")
    store.listeners.append(sender)
    app = make_app(store, sender)
    return XeroSandbox(url, store, server, sender)


def start_in_thread(**options) -> XeroSandbox:
    """Start a Xero sandbox in a background thread."""
    sandbox = build(**options)
    threading.Thread(target=sandbox.server.serve_forever, daemon=True).start()
    return sandbox
