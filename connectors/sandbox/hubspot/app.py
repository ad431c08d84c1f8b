"""The sandbox's HTTP API: HubSpot's CRM v3/v4 paths and shapes, plus control endpoints."""

import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs

from connectors.sandbox.hubspot.answers import Answer, error
from connectors.sandbox.hubspot.auth import Auth
from connectors.sandbox.hubspot.schema import PropertiesApi
from connectors.sandbox.hubspot.store import OBJECT_TYPES, SINGULAR, TYPE_IDS, Store, now_iso

Route = tuple[str, re.Pattern, Callable]
DEFAULT_PROPERTIES = ("hs_object_id", "createdate", "hs_lastmodifieddate")
NUMBER = re.compile(r"/\d+")
FORM = "application/x-www-form-urlencoded"
# HubSpot-defined association types a v3 read names "<from>_to_<to>_unlabeled" (the others,
# such as the primary deal → company 5, are "<from>_to_<to>").
UNLABELED = {341, 342, 279, 280}


@dataclass
class Config:
    """What the sandbox was started with."""

    access_token: str
    client_secret: str
    webhook_url: str = ""
    portal_id: int = 62515
    app_id: int = 54321
    rate_limit_per_10s: int | None = None
    client_id: str = "demo-hubspot-client"


def object_type(name: str) -> str:
    """Return the sandbox's name for an object type given by name or HubSpot type id."""
    name = TYPE_IDS.get(name, name)
    if name not in OBJECT_TYPES:
        raise error(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return name


class Api:
    """The HubSpot API routes over one store."""

    def __init__(self, store: Store, config: Config, auth: Auth) -> None:
        self.store, self.config, self.auth = store, config, auth
        self.calls: deque[float] = deque()
        self.routes: list[Route] = [
            ("GET", re.compile(r"^/crm/v3/objects/([^/]+)/(\d+)$"), self.get_object),
            ("PATCH", re.compile(r"^/crm/v3/objects/([^/]+)/(\d+)$"), self.update_object),
            ("GET", re.compile(r"^/crm/v3/objects/([^/]+)$"), self.list_objects),
            ("POST", re.compile(r"^/crm/v3/objects/([^/]+)$"), self.create_object),
            ("POST", re.compile(r"^/crm/v3/objects/([^/]+)/merge$"), self.merge),
            ("POST", re.compile(r"^/crm/v3/objects/([^/]+)/batch/read$"), self.batch_read),
            ("POST", re.compile(r"^/crm/v3/objects/([^/]+)/batch/update$"), self.batch_update),
            ("POST", re.compile(r"^/crm/v3/objects/([^/]+)/search$"), self.search),
            ("GET", re.compile(r"^/crm/v3/pipelines/([^/]+)$"), self.pipelines),
            (
                "POST",
                re.compile(r"^/crm/v4/associations/([^/]+)/([^/]+)/batch/read$"),
                self.associations_batch,
            ),
            ("GET", re.compile(r"^/crm/v3/pipelines/([^/]+)/([^/]+)$"), self.pipeline),
            (
                "GET",
                re.compile(r"^/crm/v4/objects/([^/]+)/(\d+)/associations/([^/]+)$"),
                self.associations,
            ),
            (
                "PUT",
                re.compile(r"^/crm/v4/objects/([^/]+)/(\d+)/associations/default/([^/]+)/(\d+)$"),
                self.associate_default,
            ),
        ]
        self.routes += PropertiesApi(store, object_type).routes() + auth.routes()

    # Gatekeeping ----------------------------------------------------------------

    def check(self, method: str, path: str, headers: dict) -> tuple[dict, dict | None]:
        """Apply auth, faults and the rate limit; return the rate-limit headers to send and
        a fault to apply once the call is carried out."""
        if not self.auth.accepts(headers.get("authorization", "").removeprefix("Bearer ")):
            raise error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        fault = self.store.fault_for(method, path)
        if fault and not fault["after"]:
            self.fault_apply(fault)
        return self.rate_limit(), fault if fault and fault["after"] else None

    def fault_apply(self, fault: dict) -> None:
        if fault["latency_ms"]:
            time.sleep(fault["latency_ms"] / 1000)
        if fault["status"]:
            raise self.fault_answer(fault)

    @staticmethod
    def fault_answer(fault: dict) -> Answer:
        status = fault["status"]
        if status == 401:
            return error(
                401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired."
            )
        if status == 429:
            answer = error(
                429,
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
            )
            answer.headers["Retry-After"] = str(fault["retry_after"] or 1)
            return answer
        answer = error(status, "INTERNAL_ERROR", "internal error")
        if fault["retry_after"]:
            answer.headers["Retry-After"] = str(fault["retry_after"])
        return answer

    def rate_limit(self) -> dict:
        limit = self.config.rate_limit_per_10s
        if not limit:
            return {}
        now = time.monotonic()
        while self.calls and now - self.calls[0] > 10:
            self.calls.popleft()
        headers = {
            "X-HubSpot-RateLimit-Max": str(limit),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        }
        if len(self.calls) >= limit:
            answer = self.fault_answer(
                {"status": 429, "retry_after": 10 - int(now - self.calls[0])}
            )
            answer.headers |= headers | {"X-HubSpot-RateLimit-Remaining": "0"}
            raise answer
        self.calls.append(now)
        return headers | {"X-HubSpot-RateLimit-Remaining": str(limit - len(self.calls))}

    # Shapes -----------------------------------------------------------------------

    def shape(
        self, kind: str, obj: dict, properties: list[str] | None, associations: list[str] = ()
    ) -> dict:
        props = obj["properties"]
        wanted = properties if properties else list(props)
        shown = {name: props.get(name) for name in wanted}
        shown |= {
            "hs_object_id": obj["id"],
            "createdate": obj["createdAt"],
            "hs_lastmodifieddate": obj["updatedAt"],
        }
        body = {
            "id": obj["id"],
            "properties": shown,
            "createdAt": obj["createdAt"],
            "updatedAt": obj["updatedAt"],
            "archived": False,
        }
        linked = {}
        for name in associations:
            to_type = object_type(name)
            found = self.store.associated(kind, obj["id"], to_type)
            if found:
                # One row per association type, named as a v3 read names them: a labelled
                # or primary type "deal_to_company", the plain one "..._unlabeled".
                label = f"{SINGULAR[kind]}_to_{SINGULAR[to_type]}"
                linked[name] = {
                    "results": [
                        {"id": i, "type": f"{label}_unlabeled" if t in UNLABELED else label}
                        for i, types in found.items()
                        for t in types
                    ]
                }
        if linked:
            body["associations"] = linked
        return body

    def found(self, kind: str, object_id: str) -> dict:
        obj = self.store.get(kind, object_id)
        if obj is None:
            raise error(
                404,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
                context={"id": [object_id]},
            )
        return obj

    # Objects ----------------------------------------------------------------------

    def get_object(self, query: dict, body, kind: str, object_id: str) -> tuple[int, dict]:
        kind = object_type(kind)
        return 200, self.shape(
            kind,
            self.found(kind, object_id),
            _csv(query, "properties"),
            _csv(query, "associations"),
        )

    def list_objects(self, query: dict, body, kind: str) -> tuple[int, dict]:
        kind = object_type(kind)
        limit = min(int(query.get("limit", ["10"])[0]), 100)
        rows = self.store.list(kind)
        after = int(query.get("after", ["0"])[0] or 0)
        page = rows[after : after + limit]
        answer = {"results": [self.shape(kind, o, _csv(query, "properties")) for o in page]}
        if after + limit < len(rows):
            answer["paging"] = {"next": {"after": str(after + limit), "link": "?after="}}
        return 200, answer

    def create_object(self, query: dict, body: dict, kind: str) -> tuple[int, dict]:
        kind = object_type(kind)
        links = [
            (_type_for_association(kind, a), str(a["to"]["id"]))
            for a in body.get("associations") or []
        ]
        obj = self.store.create(kind, body.get("properties") or {}, associations=links)
        return 201, self.shape(kind, obj, None)

    def update_object(self, query: dict, body: dict, kind: str, object_id: str) -> tuple[int, dict]:
        kind = object_type(kind)
        self.found(kind, object_id)
        obj = self.store.update(
            kind, object_id, body.get("properties") or {}, change_source="INTEGRATION"
        )
        return 200, self.shape(kind, obj, None)

    def batch_read(self, query: dict, body: dict, kind: str) -> tuple[int, dict]:
        kind = object_type(kind)
        started = now_iso()
        ids = [str(row["id"]) for row in body.get("inputs") or []]
        if len(ids) > 100:
            raise error(400, "VALIDATION_ERROR", "Batch input must not exceed 100 inputs.")
        # A merged-away id answers with the record it was merged into, once.
        found = {o["id"]: o for i in ids if (o := self.store.get(kind, i))}
        results = [self.shape(kind, o, body.get("properties")) for o in found.values()]
        return batch_answer(kind, results, [i for i in ids if not self.store.get(kind, i)], started)

    def merge(self, query: dict, body: dict, kind: str) -> tuple[int, dict]:
        """Merge `objectIdToMerge` into `primaryObjectId`; answer the primary as it is now."""
        kind = object_type(kind)
        primary, other = (
            str(body.get("primaryObjectId") or ""),
            str(body.get("objectIdToMerge") or ""),
        )
        if not primary or not other:
            raise error(
                400, "VALIDATION_ERROR", "primaryObjectId and objectIdToMerge are required."
            )
        self.found(kind, primary), self.found(kind, other)
        if self.store.get(kind, primary) is self.store.get(kind, other):
            raise error(400, "VALIDATION_ERROR", "An object cannot be merged with itself.")
        obj = self.store.merge(kind, primary, other, change_source="INTEGRATION")
        return 200, self.shape(kind, obj, None)

    def batch_update(self, query: dict, body: dict, kind: str) -> tuple[int, dict]:
        """Write properties on up to 100 objects; missing ones are errors of a 207."""
        kind = object_type(kind)
        started, inputs = now_iso(), body.get("inputs") or []
        if len(inputs) > 100:
            raise error(400, "VALIDATION_ERROR", "Batch input must not exceed 100 inputs.")
        results, missing = [], []
        for row in inputs:
            object_id = str(row.get("id"))
            if self.store.get(kind, object_id) is None:
                missing.append(object_id)
                continue
            obj = self.store.update(
                kind, object_id, row.get("properties") or {}, change_source="INTEGRATION"
            )
            results.append(self.shape(kind, obj, None))
        return batch_answer(kind, results, missing, started)

    def search(self, query: dict, body: dict, kind: str) -> tuple[int, dict]:
        kind = object_type(kind)
        groups = body.get("filterGroups") or []
        rows = [
            o
            for o in self.store.list(kind)
            if not groups or any(all(_matches(o, f) for f in g.get("filters", [])) for g in groups)
        ]
        limit, after = min(int(body.get("limit") or 10), 200), int(body.get("after") or 0)
        page = rows[after : after + limit]
        answer = {
            "total": len(rows),
            "results": [self.shape(kind, o, body.get("properties")) for o in page],
        }
        if after + limit < len(rows):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return 200, answer

    # Pipelines and associations ------------------------------------------------------

    def pipelines(self, query: dict, body, kind: str) -> tuple[int, dict]:
        return 200, {"results": self.store.pipelines.get(object_type(kind), [])}

    def pipeline(self, query: dict, body, kind: str, pipeline_id: str) -> tuple[int, dict]:
        for pipeline in self.store.pipelines.get(object_type(kind), []):
            if pipeline["id"] == pipeline_id:
                return 200, pipeline
        raise error(404, "OBJECT_NOT_FOUND", f"Unable to find pipeline {pipeline_id}")

    def associations(
        self, query: dict, body, kind: str, object_id: str, to: str
    ) -> tuple[int, dict]:
        kind, to_type = object_type(kind), object_type(to)
        self.found(kind, object_id)
        linked = self.store.associated(kind, object_id, to_type)
        return 200, {
            "results": [
                {
                    "toObjectId": int(i),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None} for t in types
                    ],
                }
                for i, types in linked.items()
            ]
        }

    def associations_batch(self, query: dict, body, kind: str, to: str) -> tuple[int, dict]:
        """Read the associations of many objects at once (207 naming the ones not found)."""
        kind, to_type = object_type(kind), object_type(to)
        results, errors = [], []
        inputs = (body or {}).get("inputs", [])
        if len(inputs) > 1000:  # HubSpot's limit since February 2025
            raise error(400, "VALIDATION_ERROR", "Batch input must not exceed 1000 inputs.")
        for entry in inputs:
            object_id = str(entry.get("id"))
            if self.store.get(kind, object_id) is None:
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_NOT_FOUND",
                        "message": f"No {kind} with id {object_id}",
                        "context": {"fromObjectId": [object_id]},
                    }
                )
                continue
            linked = self.store.associated(kind, object_id, to_type)
            results.append(
                {
                    "from": {"id": object_id},
                    "to": [
                        {
                            "toObjectId": int(i),
                            "associationTypes": [
                                {"category": "HUBSPOT_DEFINED", "typeId": t, "label": None}
                                for t in types
                            ],
                        }
                        for i, types in linked.items()
                    ],
                }
            )
        stamp = now_iso()
        answer = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": stamp,
            "completedAt": stamp,
        }
        if errors:
            return 207, answer | {"errors": errors, "numErrors": len(errors)}
        return 200, answer

    def associate_default(
        self, query: dict, body, kind: str, object_id: str, to: str, to_id: str
    ) -> tuple[int, dict]:
        kind, to_type = object_type(kind), object_type(to)
        self.found(kind, object_id)
        self.found(to_type, to_id)
        started = now_iso()
        self.store.associate(kind, object_id, to_type, to_id)
        type_id = self.store.associated(kind, object_id, to_type)[to_id][-1]
        result = {
            "from": {"id": object_id},
            "to": {"id": to_id},
            "associationSpec": {
                "associationCategory": "HUBSPOT_DEFINED",
                "associationTypeId": type_id,
            },
        }
        return 200, {
            "status": "COMPLETE",
            "results": [result],
            "startedAt": started,
            "completedAt": now_iso(),
        }

    def handle(
        self, method: str, path: str, query: dict, headers: dict, raw: bytes
    ) -> tuple[int, object, dict]:
        """Route one API request; return status, body and extra headers."""
        self.store.requests[f"{method} {NUMBER.sub('/{id}', path)}"] += 1
        try:
            # The OAuth paths take no bearer token, and HubSpot's limits do not count them.
            limit_headers, after = (
                self.check(method, path, headers) if path.startswith("/crm/") else ({}, None)
            )
            for route_method, pattern, handler in self.routes:
                match = pattern.match(path)
                if match and route_method == method:
                    form = headers.get("content-type", "").startswith(FORM)
                    body = parse_form(raw) if form else _json(raw)
                    status, answer = handler(query, body, *match.groups())
                    if after:
                        self.fault_apply(after)
                    return status, answer, limit_headers
            raise error(404, "OBJECT_NOT_FOUND", f"No route for {method} {path}")
        except Answer as answer:
            return answer.status, answer.body, answer.headers


def batch_answer(kind: str, results: list, missing: list[str], started: str) -> tuple[int, dict]:
    """A batch answer: 200 with the results, or 207 naming the ids HubSpot does not have."""
    answer = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": now_iso(),
    }
    if not missing:
        return 200, answer
    answer |= {
        "numErrors": 1,
        "errors": [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {kind} objects, they may be deleted or not exist.",
                "context": {"ids": missing},
            }
        ],
    }
    return 207, answer


def parse_form(raw: bytes) -> dict:
    """Return a form-encoded body as {name: value}."""
    return {name: values[0] for name, values in parse_qs(raw.decode()).items()}


def _json(raw: bytes):
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise error(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}") from exc


def _csv(query: dict, name: str) -> list[str]:
    return [part for value in query.get(name, []) for part in value.split(",") if part]


def _type_for_association(kind: str, association: dict) -> str:
    """Return the object type an association input points at, from its type id."""
    type_id = association["types"][0]["associationTypeId"]
    from connectors.sandbox.hubspot.store import DEFAULT_ASSOCIATIONS

    for (from_type, to_type), ids in DEFAULT_ASSOCIATIONS.items():
        if from_type == kind and type_id in ids:
            return to_type
    raise error(400, "VALIDATION_ERROR", f"Unknown association type {type_id} for {kind}")


def _matches(obj: dict, rule: dict) -> bool:
    value = obj["properties"].get(rule.get("propertyName"))
    wanted, operator = rule.get("value"), rule.get("operator", "EQ")
    if rule.get("propertyName") == "hs_lastmodifieddate":  # HubSpot keeps it on every object
        value = str(int(datetime.fromisoformat(obj["updatedAt"]).timestamp() * 1000))
    if operator in ("GT", "GTE", "LT", "LTE"):  # numbers and dates (milliseconds)
        if value in (None, ""):
            return False
        a, b = float(value), float(wanted)
        return {"GT": a > b, "GTE": a >= b, "LT": a < b, "LTE": a <= b}[operator]
    if operator == "HAS_PROPERTY":
        return value not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return value in (None, "")
    if operator in ("IN", "NOT_IN"):  # HubSpot compares lowercased values here
        found = (value or "").lower() in {str(v).lower() for v in rule.get("values") or ()}
        return found == (operator == "IN")
    if operator == "NEQ":
        return (value or "").lower() != str(wanted).lower()
    if operator == "CONTAINS_TOKEN":
        return str(wanted).lower().strip("*") in (value or "").lower()
    return (value or "").lower() == str(wanted).lower()


def parse_query(text: str) -> dict:
    """Return a query string as {name: [values]}."""
    return parse_qs(text, keep_blank_values=True)
