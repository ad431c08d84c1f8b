"""The Xero sandbox's HTTP API: identity (token, connections) and Accounting API paths."""

import base64
import json
import math
import re
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs

from connectors.sandbox.xero import tracking
from connectors.sandbox.xero.store import Store

PREFIX = "/api.xro/2.0"


class Answer(Exception):
    def __init__(self, status: int, body, headers: dict | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


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
            # A Custom Connection reaches exactly one organisation.
            return 200, self.store.issue_tokens(tenants=[next(iter(self.store.organisations))])
        if grant == "authorization_code":
            with self.store.lock:
                code = self.store.codes.pop(form.get("code", ""), None)
            if code is None or code["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant"}
            return 200, self.store.issue_tokens(tenants=code["tenants"], scope=code["scope"])
        if grant == "refresh_token":
            with self.store.lock:
                owner = self.store.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if owner is None:
                return 400, {"error": "invalid_grant"}
            return 200, self.store.issue_tokens(grant=owner)
        return 400, {"error": "unsupported_grant_type"}

    def authorized(self, headers: dict) -> str:
        """Return the bearer token, or answer 401 as Xero does when it is unknown or expired."""
        token = headers.get("authorization", "").removeprefix("Bearer ")
        expiry = self.store.token_expiry(token)
        if expiry is not None and expiry > self.store.token_clock():
            return token
        detail = "AuthenticationUnsuccessful"
        if expiry is not None:
            stamp = datetime.fromtimestamp(expiry, UTC).strftime("%m/%d/%Y %H:%M:%S")
            detail = f"TokenExpired: token expired at {stamp}"
        raise Answer(
            401,
            {
                "Type": None,
                "Title": "Unauthorized",
                "Status": 401,
                "Detail": detail,
                "Instance": str(uuid.uuid4()),
                "Extensions": {},
            },
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    def connections(self, headers: dict) -> tuple[int, list]:
        tenants = self.store.tenants_for(self.authorized(headers))
        stamp = "2026-11-25T00:00:00.0000000"
        return 200, [
            {
                "id": connection_id(o.tenant_id),
                "authEventId": str(uuid.uuid4()),
                "tenantId": o.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": o.name,
                "createdDateUtc": stamp,
                "updatedDateUtc": stamp,
            }
            for o in self.store.organisations.values()
            if o.tenant_id in tenants
        ]

    def connection_delete(self, headers: dict, connection: str) -> tuple[int, dict]:
        """Disconnect: the token's grant no longer reaches that organisation."""
        token = self.authorized(headers)
        with self.store.lock:
            grant = self.store.access_tokens[token][1]
            tenants = self.store.grants[grant]
            gone = {t for t in tenants if connection_id(t) == connection}
            if not gone:
                raise Answer(404, {"Title": "Not Found", "Status": 404})
            tenants -= gone
        return 204, {}

    # Gatekeeping ----------------------------------------------------------------------

    def organisation(self, headers: dict):
        token = self.authorized(headers)
        org = self.store.organisations.get(headers.get("xero-tenant-id", ""))
        if org is None or org.tenant_id not in self.store.tenants_for(token):
            raise Answer(
                403,
                {
                    "Type": None,
                    "Title": "Forbidden",
                    "Status": 403,
                    "Detail": "AuthorizationUnsuccessful",
                },
            )
        with self.store.lock:
            limits = self.limits_take(org, time.time())
        return org, limits

    def limits_take(self, org, now: float) -> dict:
        """Count one call against Xero's limits and return its headers, or answer 429.

        Each limit is a rolling window of calls that arrived: 60 in a minute and 5,000 in
        24 hours per organisation, 5 in flight, and 10,000 a minute for the whole app.
        """
        store = self.store
        for calls, window in ((org.calls, 60), (org.day_calls, 86400), (store.app_calls, 60)):
            while calls and now - calls[0] >= window:
                calls.popleft()
        limits = {
            "X-MinLimit-Remaining": str(max(store.minute_limit - len(org.calls) - 1, 0)),
            "X-DayLimit-Remaining": str(max(store.day_limit - len(org.day_calls) - 1, 0)),
            "X-AppMinLimit-Remaining": str(
                max(store.app_minute_limit - len(store.app_calls) - 1, 0)
            ),
        }
        # Which limit is used up, and when the oldest call in its window leaves it.
        full = [
            ("minute", len(org.calls) >= store.minute_limit, org.calls, 60),
            ("day", len(org.day_calls) >= store.day_limit, org.day_calls, 86400),
            ("concurrent", org.in_flight >= store.concurrent_limit, None, 0),
            ("appminute", len(store.app_calls) >= store.app_minute_limit, store.app_calls, 60),
        ]
        for problem, used_up, calls, window in full:
            if not used_up:
                continue
            org.rejected += 1
            headers = {"X-Rate-Limit-Problem": problem}
            if calls:  # Xero says when to come back for the minute and day limits
                headers["Retry-After"] = str(max(1, math.ceil(calls[0] + window - now)))
            raise Answer(429, {"Title": "Too Many Requests"}, limits | headers)
        org.calls.append(now)
        org.day_calls.append(now)
        store.app_calls.append(now)
        org.call_count += 1
        org.in_flight += 1
        return limits

    @staticmethod
    def fault(fault: dict) -> None:
        """Apply a fault: latency, then an answer such as 429, 500 or 503."""
        if fault.get("latency_ms"):
            time.sleep(fault["latency_ms"] / 1000)
        status = fault.get("status")
        if status == 429:
            raise Answer(
                429,
                {"Title": "Too Many Requests"},
                {
                    "Retry-After": str(fault.get("retry_after") or 1),
                    "X-Rate-Limit-Problem": "minute",
                },
            )
        if status:
            headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") else {}
            raise Answer(status, {"Title": "Sandbox fault", "Status": status}, headers)

    # Accounting --------------------------------------------------------------------------

    def accounting(self, method: str, path: str, query: dict, headers: dict, raw: bytes):
        # The console's switch (its latency is spent below, holding a place in flight).
        self.fault({"status": self.store.faults.get("status")})
        planned = self.store.fault_take(method, path) or {}
        if not planned.get("after"):
            self.fault(planned)
        org, limits = self.organisation(headers)
        org.requests[f"{method} {path}"] += 1
        try:
            # A slow answer holds its place among the calls in flight, as at Xero.
            time.sleep(self.store.faults.get("latency_ms", 0) / 1000)
            status, answer = self.idempotent(org, method, path, query, headers, raw)
        finally:
            with self.store.lock:
                org.in_flight -= 1
        if planned.get("after"):
            self.fault(planned)
        return status, answer, limits

    def idempotent(self, org, method: str, path: str, query: dict, headers: dict, raw: bytes):
        """Answer a replayed Idempotency-Key with the first answer; else route the request."""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise Answer(400, {"Type": "ValidationException", "Message": str(exc)}) from exc
        summarize = query.get("summarizeErrors", ["true"])[0].lower() != "false"
        key = headers.get("idempotency-key")
        if key and len(key) > 128:
            raise Answer(
                400, {"Type": "ValidationException", "Message": "Idempotency-Key too long"}
            )
        if key and method in ("PUT", "POST"):
            replay = self.store.idempotent.get((org.tenant_id, path, key))
            if replay:
                return replay
        since = headers.get("if-modified-since")
        status, answer = self.route(org, method, path, query, body, summarize, since)
        if key and method in ("PUT", "POST"):
            self.store.idempotent[(org.tenant_id, path, key)] = (status, answer)
        return status, answer

    def route(self, org, method, path, query, body, summarize, since):
        from connectors.sandbox.xero import books, credits, money

        if path == "/Currencies" and method == "GET":
            return 200, {"Currencies": [books.public(c) for c in org.currencies.values()]}
        if path == "/Items" and method == "GET":
            return 200, {"Items": list(org.items.values())}
        if path == "/TaxRates" and method == "GET":
            return 200, {"TaxRates": list(org.tax_rates.values())}
        if path == "/TrackingCategories" and method == "GET":
            categories = tracking.listed(org.tracking_categories, query)
            return 200, {"TrackingCategories": categories}
        if path == "/Accounts" and method == "GET":
            return 200, {"Accounts": books.filtered(org.accounts.values(), query)}
        collections = {
            "/Contacts": org.contacts,
            "/Invoices": org.invoices,
            "/Payments": org.payments,
            "/Quotes": org.quotes,
            "/CreditNotes": org.credit_notes,
        }
        if path in collections and method == "GET":
            rows = books.filtered(money.modified_since(collections[path].values(), since), query)
            if path == "/Contacts":
                rows = books.contacts_listed(rows, query)
            return 200, {path[1:]: paged(rows, query)}
        unitdp = int(query.get("unitdp", ["2"])[0] or 2)
        if path in ("/Contacts", "/Invoices") and method in ("PUT", "POST"):
            kind = path[1:]
            return books.save_many(self.store, org, kind, body.get(kind, []), summarize, unitdp)
        if path == "/Payments" and method in ("PUT", "POST"):
            return money.payments_save(self.store, org, body.get("Payments", []), summarize)
        if path == "/CreditNotes" and method in ("PUT", "POST"):
            notes = body.get("CreditNotes", [])
            return credits.credit_notes_save(self.store, org, notes, summarize, unitdp)
        allocation = re.fullmatch(r"/CreditNotes/([0-9a-f-]+)/Allocations", path)
        if allocation and method == "PUT":
            return credits.allocations_save(self.store, org, allocation[1], body, summarize)
        match = re.fullmatch(r"/(Contacts|Invoices|Quotes|Payments|CreditNotes)/([0-9a-f-]+)", path)
        if match:
            record = collections["/" + match[1]].get(match[2])
            if record is None:
                raise Answer(404, {"Title": "Not Found", "Status": 404})
            if method == "GET":
                return 200, {match[1]: [books.public(record)]}
            if match[1] in ("Contacts", "Invoices"):
                return books.save_many(
                    self.store,
                    org,
                    match[1],
                    [dict(body.get(match[1], [{}])[0], **{match[1][:-1] + "ID": match[2]})],
                    summarize,
                    unitdp,
                )
        raise Answer(
            404, {"Title": "Not Found", "Status": 404, "Detail": f"No route {method} {path}"}
        )


def paged(rows: list[dict], query: dict) -> list[dict]:
    """Xero's paging: with ?page=N, pageSize records (default 100) of page N; else all."""
    if "page" not in query:
        return rows
    page = max(int(query["page"][0]), 1)
    size = min(int(query.get("pageSize", ["100"])[0]), 1000)
    return rows[(page - 1) * size : page * size]


def connection_id(tenant_id: str) -> str:
    """The /connections id of a tenant (stable, so a disconnect can name it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, tenant_id))


def parse_form(raw: bytes) -> dict:
    return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
