"""The Xero sandbox's HTTP API: identity (token, connections) and Accounting API paths."""

import base64
import json
import re
import time
import uuid
from urllib.parse import parse_qs

from connectors.sandbox.xero.store import Store, xero_date

PREFIX = "/api.xro/2.0"


class Answer(Exception):
    def __init__(self, status: int, body, headers: dict | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def validation(elements: list[dict], key: str) -> Answer:
    return Answer(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        },
    )


class Api:
    """Routes one request against the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # Identity ------------------------------------------------------------------------

    def token(self, form: dict, headers: dict) -> tuple[int, dict]:
        self.store.token_calls += 1
        grant = form.get("grant_type", "")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if headers.get("authorization", "").startswith("Basic "):
            client_id, _, secret = (
                base64.b64decode(headers["authorization"][6:]).decode().partition(":")
            )
        if (client_id, secret) != (self.store.client_id, self.store.client_secret):
            return 400, {"error": "invalid_client"}
        if grant == "client_credentials":
            return 200, self.store.issue_tokens()
        if grant == "refresh_token":
            with self.store.lock:
                if form.get("refresh_token") not in self.store.refresh_tokens:
                    return 400, {"error": "invalid_grant"}
                self.store.refresh_tokens.discard(form["refresh_token"])
            return 200, self.store.issue_tokens()
        return 400, {"error": "unsupported_grant_type"}

    def connections(self) -> tuple[int, list]:
        stamp = "2026-11-25T00:00:00.0000000"
        return 200, [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, o.tenant_id)),
                "authEventId": str(uuid.uuid4()),
                "tenantId": o.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": o.name,
                "createdDateUtc": stamp,
                "updatedDateUtc": stamp,
            }
            for o in self.store.organisations.values()
        ]

    # Gatekeeping ----------------------------------------------------------------------

    def organisation(self, headers: dict):
        token = headers.get("authorization", "").removeprefix("Bearer ")
        if not self.store.token_valid(token):
            raise Answer(
                401,
                {
                    "Type": None,
                    "Title": "Unauthorized",
                    "Status": 401,
                    "Detail": "AuthenticationUnsuccessful",
                },
            )
        org = self.store.organisations.get(headers.get("xero-tenant-id", ""))
        if org is None:
            raise Answer(
                403,
                {
                    "Type": None,
                    "Title": "Forbidden",
                    "Status": 403,
                    "Detail": "AuthorizationUnsuccessful",
                },
            )
        now = time.time()
        with self.store.lock:
            while org.calls and now - org.calls[0] > 60:
                org.calls.popleft()
            remaining = self.store.minute_limit - len(org.calls)
            limits = {
                "X-MinLimit-Remaining": str(max(remaining - 1, 0)),
                "X-DayLimit-Remaining": "4999",
                "X-AppMinLimit-Remaining": "9999",
            }
            if remaining <= 0:
                org.rejected += 1
                retry = str(max(1, int(61 - (now - org.calls[0]))))
                raise Answer(
                    429,
                    {"Title": "Too Many Requests"},
                    limits | {"Retry-After": retry, "X-Rate-Limit-Problem": "minute"},
                )
            org.calls.append(now)
            org.call_count += 1
        return org, limits

    # Accounting --------------------------------------------------------------------------

    def accounting(self, method: str, path: str, query: dict, headers: dict, raw: bytes):
        org, limits = self.organisation(headers)
        body = json.loads(raw) if raw else {}
        summarize = query.get("summarizeErrors", ["true"])[0].lower() != "false"
        key = headers.get("idempotency-key")
        if key and len(key) > 128:
            raise Answer(
                400, {"Type": "ValidationException", "Message": "Idempotency-Key too long"}
            )
        if key and method in ("PUT", "POST"):
            replay = self.store.idempotent.get((org.tenant_id, path, key))
            if replay:
                return replay[0], replay[1], limits
        status, answer = self.route(org, method, path, query, body, summarize)
        if key and method in ("PUT", "POST"):
            self.store.idempotent[(org.tenant_id, path, key)] = (status, answer)
        return status, answer, limits

    def route(self, org, method: str, path: str, query: dict, body: dict, summarize: bool):
        from connectors.sandbox.xero import books

        if path == "/Items" and method == "GET":
            return 200, {"Items": list(org.items.values())}
        if path == "/TaxRates" and method == "GET":
            return 200, {"TaxRates": list(org.tax_rates.values())}
        if path == "/Contacts":
            if method == "GET":
                return 200, {"Contacts": books.filtered(org.contacts.values(), query)}
            return books.save_many(self.store, org, "Contacts", body.get("Contacts", []), summarize)
        if path == "/Invoices":
            if method == "GET":
                return 200, {"Invoices": books.filtered(org.invoices.values(), query)}
            return books.save_many(self.store, org, "Invoices", body.get("Invoices", []), summarize)
        match = re.fullmatch(r"/(Contacts|Invoices)/([0-9a-f-]+)", path)
        if match:
            records = org.contacts if match[1] == "Contacts" else org.invoices
            record = records.get(match[2])
            if record is None:
                raise Answer(404, {"Title": "Not Found", "Status": 404})
            if method == "GET":
                return 200, {match[1]: [books.public(record)]}
            return books.save_many(
                self.store,
                org,
                match[1],
                [dict(body.get(match[1], [{}])[0], **{match[1][:-1] + "ID": match[2]})],
                summarize,
            )
        raise Answer(
            404, {"Title": "Not Found", "Status": 404, "Detail": f"No route {method} {path}"}
        )


def parse_form(raw: bytes) -> dict:
    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}


def now_date() -> str:
    return xero_date()
