"""Serving the Xero sandbox: the WSGI app and start/stop helpers."""

import json
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer, make_server

from connectors.sandbox.hubspot.server import QuietHandler, ThreadingServer
from connectors.sandbox.xero.app import PREFIX, Answer, Api, parse_form
from connectors.sandbox.xero.store import Store


def make_app(store: Store):
    """Return the WSGI app: /connect/token, /connections and the Accounting API."""
    api = Api(store)

    def app(environ, start):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        extra: dict = {}
        try:
            if path == "/connect/token" and method == "POST":
                status, body = api.token(parse_form(raw), headers)
            elif path.lower() == "/connections" and method == "GET":
                api.organisation(headers | {"xero-tenant-id": next(iter(store.organisations))})
                status, body = api.connections()
            elif path.startswith(PREFIX):
                query = parse_qs(environ.get("QUERY_STRING", ""))
                status, body, extra = api.accounting(
                    method, path[len(PREFIX) :], query, headers, raw
                )
            else:
                status, body = 404, {"Title": "Not Found"}
        except Answer as answer:
            status, body, extra = answer.status, answer.body, answer.headers
        data = json.dumps(body).encode()
        start(
            f"{status} {'OK' if status < 400 else 'Error'}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                *extra.items(),
            ],
        )
        return [data]

    return app


@dataclass
class XeroSandbox:
    """A running Xero sandbox."""

    url: str
    store: Store
    server: WSGIServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_in_thread(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    client_id: str,
    client_secret: str,
    minute_limit: int = 60,
) -> XeroSandbox:
    """Start a Xero sandbox in a background thread."""
    store = Store(client_id=client_id, client_secret=client_secret, minute_limit=minute_limit)
    server = make_server(host, port, make_app(store), ThreadingServer, QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return XeroSandbox(f"http://{host}:{server.server_port}", store, server)
