"""Serving the sandbox: the WSGI app, a threaded server, and start/stop helpers."""

import json
import socketserver
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from connectors.sandbox.hubspot.answers import Answer
from connectors.sandbox.hubspot.app import Api, Config, parse_form, parse_query
from connectors.sandbox.hubspot.auth import Auth
from connectors.sandbox.hubspot.console import page
from connectors.sandbox.hubspot.store import Store
from connectors.sandbox.hubspot.webhooks import Sender

FAULT_BUTTONS = {
    "500": {"status": 500},
    "429": {"status": 429, "retry_after": 5},
    "401": {"status": 401},
    "latency": {"latency_ms": 2000},
}


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 (the stdlib's name)
        pass


def make_app(store: Store, config: Config, sender: Sender, auth: Auth):
    """Return the WSGI app: the API under /crm/ and /oauth/v…, HubSpot's install page at
    /oauth/authorize, control under /_sandbox/, the console at /."""
    api = Api(store, config, auth)

    def respond(
        start, status: int, body, headers: dict | None = None, content_type="application/json"
    ):
        data = (
            body
            if isinstance(body, bytes)
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        start(
            f"{status} {'OK' if status < 400 else 'Error'}",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(data))),
                *(headers or {}).items(),
            ],
        )
        return [data]

    def app(environ, start):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        if path == "/oauth/authorize" and method == "POST":
            try:
                location = auth.install_grant(parse_form(raw))
            except Answer as refused:
                return respond(start, refused.status, refused.body)
            return respond(start, 302, b"", {"Location": location}, "text/plain")
        if path == "/oauth/authorize":
            install = auth.install_page(parse_query(environ.get("QUERY_STRING", "")))
            return respond(start, 200, install, None, "text/html; charset=utf-8")
        if path.startswith(("/crm/", "/oauth/v")):
            status, body, extra = api.handle(
                method, path, parse_query(environ.get("QUERY_STRING", "")), headers, raw
            )
            return respond(start, status, body, extra)
        if path.startswith("/_sandbox/"):
            return respond(start, *control(method, path, raw))
        if path.startswith("/console/") and method == "POST":
            console_action(path, {k: v[0] for k, v in parse_qs(raw.decode()).items()})
            return respond(start, 303, b"", {"Location": "/"}, "text/plain")
        if path.startswith("/record/"):
            return respond(
                start,
                302,
                b"",
                {"Location": f"/#deal-{path.rstrip('/').rsplit('/', 1)[-1]}"},
                "text/plain",
            )
        if path == "/":
            return respond(
                start,
                200,
                page(store, sender.log, config.webhook_url),
                None,
                "text/html; charset=utf-8",
            )
        return respond(start, 404, {"message": f"No route for {method} {path}"})

    def control(method: str, path: str, raw: bytes) -> tuple[int, object]:
        if path == "/_sandbox/faults":
            if method == "POST":
                store.set_fault(**json.loads(raw or b"{}"))
            elif method == "DELETE":
                store.clear_faults()
            return 200, {"faults": store.faults}
        if path == "/_sandbox/reset" and method == "POST":
            store.reset(json.loads(raw or b"{}").get("seed", "demo"))
            return 200, {"reset": True}
        if path == "/_sandbox/state":
            return 200, store.dump()
        if path == "/_sandbox/deliveries":
            return 200, list(sender.log)
        return 404, {"message": f"No control endpoint {method} {path}"}

    def console_action(path: str, form: dict) -> None:
        parts = path.strip("/").split("/")
        if parts[1:2] == ["deals"] and parts[3:] in (["stage"], ["job_status"]):
            store.update("deals", parts[2], form, change_source="CRM_UI")
        elif parts[1:2] == ["deals"] and parts[3:] == ["company"]:
            store.associate("deals", parts[2], "companies", form["company"])
        elif parts[1:2] == ["companies"] and parts[3:] == ["merge"]:
            store.merge("companies", form["into"], parts[2])
        elif parts[1:2] == ["companies"]:
            store.update("companies", parts[2], form, change_source="CRM_UI")
        elif parts[1:] == ["faults"]:
            if form.get("fault") == "clear":
                store.clear_faults()
            elif form.get("fault") == "uninstall":
                auth.installs_revoke()
            elif form.get("fault") in FAULT_BUTTONS:
                store.set_fault(**FAULT_BUTTONS[form["fault"]])

    return app


@dataclass
class SandboxServer:
    """A running sandbox: its URL, state and webhook sender."""

    url: str
    store: Store
    sender: Sender
    server: WSGIServer
    auth: Auth
    thread: threading.Thread | None = None

    def stop(self) -> None:
        """Stop serving and sending."""
        self.server.shutdown()
        self.server.server_close()
        self.sender.stop()


def build(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    access_token: str,
    client_secret: str,
    webhook_url: str = "",
    seed: str = "demo",
    state_file: str | None = None,
    rate_limit_per_10s: int | None = None,
    portal_id: int = 62515,
    app_id: int = 54321,
    client_id: str = "demo-hubspot-client",
) -> SandboxServer:
    """Create the store, the sender and the server, without serving yet."""
    config = Config(
        access_token, client_secret, webhook_url, portal_id, app_id, rate_limit_per_10s, client_id
    )
    auth = Auth(
        access_token=access_token,
        client_id=client_id,
        client_secret=client_secret,
        hub_id=portal_id,
    )
    store = Store(state_file=state_file)
    store.load_or_seed(seed)
    sender = Sender(
        webhook_url=webhook_url, client_secret=client_secret, portal_id=portal_id, app_id=app_id
    )
    store.listeners.append(sender)
    app = make_app(store, config, sender, auth)
    server = make_server(host, port, app, ThreadingServer, QuietHandler)
    return SandboxServer(f"http://{host}:{server.server_port}", store, sender, server, auth)


def start_in_thread(**options) -> SandboxServer:
    """Start a sandbox in a background thread (for tests and the demo seed)."""
    sandbox = build(**options)
    sandbox.thread = threading.Thread(target=sandbox.server.serve_forever, daemon=True)
    sandbox.thread.start()
    return sandbox
