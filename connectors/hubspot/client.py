"""HubSpot through the official SDK: what a won deal promised, and batched reads and writes."""

import json
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from hubspot.crm.companies import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.properties import (
    OptionInput,
    PropertyCreate,
    PropertyGroupCreate,
    PropertyUpdate,
)

from connectors.calls import call
from connectors.errors import AuthExpired, ConnectorError, Invalid, NotFound
from connectors.hubspot.errors import translate
from connectors.hubspot.limits import HUBSPOT, account, answer_read
from connectors.hubspot.sdk import sdk
from connectors.hubspot.tokens import (
    Credential,
    credential,
    credential_renewed,
    reconnect_needed,
    success_note,
)
from connectors.models import HubSpotConnection

DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "dealstage",
    "pipeline",
    "closedate",
    "description",
    "site_address",
    "deal_currency_code",
]
COMPANY_PROPERTIES = [
    "name",
    "domain",
    "phone",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "abn",
    "description",
]
CONTACT_PROPERTIES = ["firstname", "lastname", "email", "phone", "jobtitle"]
LINE_ITEM_PROPERTIES = [
    "name",
    "quantity",
    "price",
    "amount",
    "hs_sku",
    "description",
    "tax_treatment",
    "hs_discount_percentage",
]
PRIMARY_DEAL_TO_COMPANY = 5
# What a deal is read with, for a job: the ids of these associated objects.
DEAL_LINKS = ("companies", "contacts", "line_items")
# HubSpot's batch endpoints take 100 inputs.
BATCH_SIZE = 100
ASSOCIATIONS_BATCH_SIZE = 1000  # HubSpot's limit on an associations batch read
PIPELINE_CACHE_SECONDS = 300


@dataclass(frozen=True)
class DealStage:
    """A deal stage and what its pipeline metadata says about it."""

    id: str
    label: str
    pipeline_id: str
    is_closed: bool
    probability: float

    @property
    def is_won(self) -> bool:
        return self.is_closed and self.probability >= 1.0


@dataclass(frozen=True)
class CrmObject:
    """A HubSpot object: its id and properties."""

    id: str
    properties: dict[str, str | None]


@dataclass(frozen=True)
class DealBundle:
    """A deal with its stage, company, contacts and line items."""

    deal: CrmObject
    stage: DealStage
    company: CrmObject | None
    contacts: list[CrmObject]
    line_items: list[CrmObject]
    # The company's main person (its first): who the customer's contact name and email are.
    main_contact: CrmObject | None = None


def _summary(result: Any) -> str:
    """Return a short description of an SDK answer (or its JSON): the ids it carries."""
    if isinstance(result, dict):
        return f"{len(result.get('results', []))} result(s)"
    rows = getattr(result, "results", None)
    if rows is not None:
        ids = [str(getattr(row, "id", None) or getattr(row, "to_object_id", "?")) for row in rows]
        return f"{len(ids)} result(s): {', '.join(ids[:20])}"
    return f"id {getattr(result, 'id', '?')}"


def _status(error: Exception) -> int | None:
    """The HTTP status of the SDK's error behind one of the hub's errors."""
    return getattr(error.__cause__, "status", None)


def _chunks(items: list, size: int = BATCH_SIZE) -> list[list]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class HubSpotClient:
    """The hub's calls to HubSpot; every failure leaves as a typed ConnectorError."""

    system = "hubspot"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        access_token: str | None = None,
        timeout: float | None = None,
    ) -> None:
        # Without a token given, each call takes the stored connection's (or the setting's).
        self.credential = (
            Credential(access_token, account(access_token), stored=False) if access_token else None
        )
        self.api = sdk(base_url=base_url)
        self._kept: Credential | None = None
        self.timeout = timeout or settings.HUBSPOT_TIMEOUT_SECONDS

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Make one call inside the account's shared limit (connectors/hubspot/limits.py).

        An OAuth token HubSpot refuses (401) although it looked fresh is renewed, once for
        every worker, and the call made again: only a refusal of the renewed token means
        the connection is gone (the one "Reconnect HubSpot" item).
        """
        # The token is looked up once for this client's calls (one run's), then kept.
        now = self.credential or self._kept or credential()
        self._kept = None if self.credential else now
        try:
            return self._send(now, what, method, *args, **kwargs)
        except AuthExpired as refused:
            renewed = credential_renewed(now) if _status(refused) == 401 else None
            if renewed is None:
                raise
        self._kept = None if self.credential else renewed
        try:
            return self._send(renewed, what, method, *args, **kwargs)
        except AuthExpired as refused:
            connection = HubSpotConnection.current()
            if connection is None or _status(refused) != 401:
                raise
            raise reconnect_needed(connection, refused.detail) from refused

    def _send(
        self, now: Credential, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        request = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        method.__self__.api_client.configuration.access_token = now.token
        # The SDK's plain methods drop the answer's headers; their twins keep them.
        with_headers = getattr(method.__self__, f"{method.__name__}_with_http_info")
        with (
            call(self.system, method.__qualname__, request) as entry,
            HUBSPOT.slot(now.account, what=what) as said,
        ):
            try:
                answer = with_headers(
                    *args, _request_timeout=self.timeout, _return_http_data_only=False, **kwargs
                )
                if kwargs.get("_preload_content") is False:  # the answer's JSON, no models
                    result, status, headers = json.loads(answer.data), answer.status, answer.headers
                else:
                    result, status, headers = answer
            except Exception as exc:
                status = getattr(exc, "status", None)
                answer_read(said, getattr(exc, "headers", None), status, getattr(exc, "body", ""))
                raise translate(exc, what=what) from exc
            answer_read(said, headers, status)
            entry["response"] = _summary(result)
        if now.stored:
            success_note()
        return result

    def deal_stage(self, *, pipeline_id: str, stage_id: str) -> DealStage:
        """Return a deal stage's metadata, from a short-lived cache of the pipelines."""
        try:
            stages = cache.get("hubspot:deal-stages")
        except Exception:  # the cache (Redis) is down: read the pipelines instead
            stages = None
        if stages is None or stage_id not in stages:
            stages = self._deal_stages()
            with suppress(Exception):  # a cache that cannot be written is only slower
                cache.set("hubspot:deal-stages", stages, PIPELINE_CACHE_SECONDS)
        if stage_id not in stages:
            return DealStage(stage_id, stage_id, pipeline_id, False, 0.0)
        return stages[stage_id]

    def deal_pipelines(self) -> dict[str, str]:
        """Return every deal pipeline: id → its label."""
        return {p.id: p.label for p in self._pipelines()}

    def _pipelines(self) -> list:
        return self._call(
            "the deal pipelines", self.api.crm.pipelines.pipelines_api.get_all, object_type="deals"
        ).results

    def _deal_stages(self) -> dict[str, DealStage]:
        return {
            stage.id: DealStage(
                id=stage.id,
                label=stage.label,
                pipeline_id=pipeline.id,
                is_closed=str((stage.metadata or {}).get("isClosed", "false")).lower() == "true",
                probability=float((stage.metadata or {}).get("probability") or 0),
            )
            for pipeline in self._pipelines()
            for stage in pipeline.stages
        }

    def _associated(self, from_type: str, object_id: str, to_type: str) -> list[tuple[str, set]]:
        page = self._call(
            f"the {to_type} of {from_type} {object_id}",
            self.api.crm.associations.v4.basic_api.get_page,
            from_type,
            object_id,
            to_type,
            limit=500,
        )
        return [
            (str(row.to_object_id), {kind.type_id for kind in row.association_types or []})
            for row in page.results
        ]

    def _read_many(
        self, object_type: str, ids: list[str], properties: list[str]
    ) -> dict[str, CrmObject]:
        """Return the objects by id, 100 to a call; ids HubSpot does not have are left out."""
        batch_api = getattr(self.api.crm, object_type).batch_api
        found: dict[str, CrmObject] = {}
        for chunk in _chunks(list(dict.fromkeys(ids))):
            # The request as JSON: the SDK's models cost more than the call (each one
            # builds a configuration of its own), and it sends a dict as it is.
            request = {
                "inputs": [{"id": i} for i in chunk],
                "properties": properties,
                "propertiesWithHistory": [],
            }
            what = f"{object_type} {', '.join(chunk)}"
            # The JSON as it came: the SDK's models (dates parsed one by one) would cost
            # more than the call itself at a thousand objects.
            response = self._call(what, batch_api.read, request, _preload_content=False)
            errors = [
                SimpleNamespace(
                    category=e.get("category"), message=e.get("message"), context=e.get("context")
                )
                for e in response.get("errors") or []
            ]
            problems = _batch_errors(SimpleNamespace(errors=errors), chunk, object_type)
            others = [e for e in problems.values() if not isinstance(e, NotFound)]
            if others:
                raise others[0]
            found |= {r["id"]: CrmObject(r["id"], r["properties"]) for r in response["results"]}
        return found

    def _batch_read(self, object_type: str, ids: list[str], properties: list[str]) -> list:
        found = self._read_many(object_type, ids, properties)
        return [found[i] for i in ids if i in found]

    def _properties_read(
        self, object_type: str, ids: list[str], properties: list[str]
    ) -> dict[str, dict[str, str | None]]:
        found = self._read_many(object_type, ids, properties)
        return {i: {name: o.properties.get(name) for name in properties} for i, o in found.items()}

    def deals_read(self, ids: list[str], properties: list[str]) -> dict[str, dict[str, str | None]]:
        """Return these deals' properties by id, 100 deals a call; missing deals are left out."""
        return self._properties_read("deals", ids, properties)

    def companies_read(
        self, ids: list[str], properties: list[str]
    ) -> dict[str, dict[str, str | None]]:
        """Return these companies' properties by id, 100 a call; missing ones are left out."""
        return self._properties_read("companies", ids, properties)

    def merged_into(self, object_type: str, ids: list[str]) -> dict[str, str]:
        """Return those of these ids HubSpot merged into another record: id → the survivor's.

        A read of a merged-away id answers with the surviving record under its own id,
        whose hs_merged_object_ids lists the ids merged into it.
        """
        found = self._read_many(object_type, ids, ["hs_merged_object_ids"])
        moved = {}
        for survivor, obj in found.items():
            merged = set((obj.properties.get("hs_merged_object_ids") or "").split(";"))
            moved |= {i: survivor for i in ids if i != survivor and i in merged}
        return moved

    def contacts_read(
        self, ids: list[str], properties: list[str] = CONTACT_PROPERTIES
    ) -> dict[str, dict[str, str | None]]:
        """Return these contacts' properties by id, 100 a call; missing ones are left out."""
        return self._properties_read("contacts", ids, properties)

    def _update_many(
        self, object_type: str, changes: dict[str, dict[str, str]]
    ) -> dict[str, ConnectorError]:
        """Write properties on many objects, 100 a call; return what failed, by id."""
        batch_api = getattr(self.api.crm, object_type).batch_api
        failed: dict[str, ConnectorError] = {}
        for chunk in _chunks(list(changes.items())):
            request = {"inputs": [{"id": i, "properties": p} for i, p in chunk]}  # as JSON
            ids = [i for i, _ in chunk]
            response = self._call(f"{object_type} {', '.join(ids)}", batch_api.update, request)
            failed |= _batch_errors(response, ids, object_type)
        return failed

    def deals_update(self, changes: dict[str, dict[str, str]]) -> dict[str, ConnectorError]:
        """Write properties on many deals ({id: properties}); return the failures by id.

        Each failure is the hub's typed error (NotFound for a deal HubSpot no longer has);
        the others were written.
        """
        return self._update_many("deals", changes)

    def companies_update(self, changes: dict[str, dict[str, str]]) -> dict[str, ConnectorError]:
        """Write properties on many companies; return the failures by id (see deals_update)."""
        return self._update_many("companies", changes)

    def contacts_update(self, changes: dict[str, dict[str, str]]) -> dict[str, ConnectorError]:
        """Write properties on many contacts; return the failures by id (see deals_update)."""
        return self._update_many("contacts", changes)

    def associated(self, from_type: str, object_id: str, to_type: str) -> list[str]:
        """Return the ids of the objects of `to_type` associated with one object."""
        return [to_id for to_id, _ in self._associated(from_type, object_id, to_type)]

    def associated_many(self, from_type: str, ids: list[str], to_type: str) -> dict[str, list]:
        """Return, per object, the ids of its associated objects of `to_type`: 1,000 a call.

        Objects HubSpot does not have are left out.
        """
        found: dict[str, list[str]] = {}
        batch_api = self.api.crm.associations.v4.batch_api
        for chunk in _chunks(list(dict.fromkeys(ids)), ASSOCIATIONS_BATCH_SIZE):
            request = {"inputs": [{"id": i} for i in chunk]}  # as JSON (see _read_many)
            answer = self._call(
                f"the {to_type} of {from_type} {', '.join(chunk)}",
                batch_api.get_page,
                from_type,
                to_type,
                request,
                _preload_content=False,
            )
            for row in answer.get("results", []):
                to = row.get("to") or []
                found[str(row["from"]["id"])] = [str(each["toObjectId"]) for each in to]
        return found

    def companies_search(self, filter_groups: list[list[dict]], properties: list[str]) -> dict:
        """Return up to 50 companies matching any group of filters (all filters of a group)."""
        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(filters=[Filter(**f) for f in group]) for group in filter_groups
            ],
            properties=properties,
            limit=50,
        )
        found = self._call(
            "companies like this customer", self.api.crm.companies.search_api.do_search, request
        )
        return {row.id: row.properties for row in found.results}

    def companies_changed(
        self, since: datetime | None, properties: list[str]
    ) -> dict[str, dict[str, str | None]]:
        """Return the companies changed after `since` (every company without it), 100 a call:
        a search on the last-modified date, or the whole list."""
        found: dict[str, dict[str, str | None]] = {}
        after: str | None = None
        while True:
            if since is None:
                page = self._call(
                    "the companies",
                    self.api.crm.companies.basic_api.get_page,
                    limit=BATCH_SIZE,
                    after=after,
                    properties=properties,
                )
            else:
                changed = Filter(
                    property_name="hs_lastmodifieddate",
                    operator="GT",
                    value=str(int(since.timestamp() * 1000)),
                )
                request = PublicObjectSearchRequest(
                    filter_groups=[FilterGroup(filters=[changed])],
                    properties=properties,
                    limit=BATCH_SIZE,
                    after=after,
                )
                page = self._call(
                    f"the companies changed since {since:%Y-%m-%d %H:%M}",
                    self.api.crm.companies.search_api.do_search,
                    request,
                )
            found |= {row.id: row.properties for row in page.results}
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return found

    def deals_in_stages(self, stage_ids: list[str], *, without: str) -> dict[str, str]:
        """Return the deals at these stages whose property `without` is empty: id → stage,
        100 a call (HubSpot's search gives 10,000 results at most: enough for deals won and
        not yet worked)."""
        found: dict[str, str] = {}
        after: str | None = None
        filters = [
            Filter(property_name="dealstage", operator="IN", values=stage_ids),
            Filter(property_name=without, operator="NOT_HAS_PROPERTY"),
        ]
        while stage_ids:
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=filters)],
                properties=["dealstage"],
                limit=BATCH_SIZE,
                after=after,
            )
            page = self._call("the won deals", self.api.crm.deals.search_api.do_search, request)
            found |= {row.id: row.properties.get("dealstage") or "" for row in page.results}
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                break
        return found

    def won_stages(self) -> list[str]:
        """The ids of every won stage, in every deal pipeline."""
        return [stage.id for stage in self._deal_stages().values() if stage.is_won]

    def deal_bundle(self, deal_id: str) -> DealBundle:
        """Fetch a deal and, when its stage is a won one, everything a job needs from it.

        Four calls at most, one after another: the deal with the ids of its companies,
        people and line items; its primary company with the ids of the company's people;
        the deal's people and the company's main one; the line items. A deal at a stage
        that is not won costs the first call only.
        """
        deal = self._call(
            f"deal {deal_id}",
            self.api.crm.deals.basic_api.get_by_id,
            deal_id,
            properties=DEAL_PROPERTIES,
            associations=list(DEAL_LINKS),
        )
        props = deal.properties
        stage = self.deal_stage(
            pipeline_id=props.get("pipeline") or "default", stage_id=props.get("dealstage") or ""
        )
        bundle = DealBundle(CrmObject(deal.id, props), stage, None, [], [])
        if not stage.is_won:
            return bundle
        linked = {name: self._linked(deal, name) for name in DEAL_LINKS}
        company, people = None, []
        if linked["companies"]:
            company, people = self.company_with_people(linked["companies"][0], COMPANY_PROPERTIES)
        main = min(people, key=int, default=None)  # the company's first person
        contact_ids = linked["contacts"]
        wanted = [*contact_ids, main] if main else contact_ids
        found = self._read_many("contacts", wanted, CONTACT_PROPERTIES)
        return replace(
            bundle,
            company=company,
            contacts=[found[i] for i in contact_ids if i in found],
            line_items=self._batch_read("line_items", linked["line_items"], LINE_ITEM_PROPERTIES),
            main_contact=found.get(main) if main else None,
        )

    def _linked(self, deal, to_type: str) -> list[str]:
        """The ids of one type of object a deal read with its associations names (the primary
        company first); a list longer than the read's page is read on its own."""
        every = deal.associations or {}
        # HubSpot names line items "line items" in this answer.
        rows = every.get(to_type) or every.get(to_type.replace("_", " "))
        if rows is None:
            return []
        if rows.paging and rows.paging.next:
            found = self._associated("deals", deal.id, to_type)
            found.sort(key=lambda row: PRIMARY_DEAL_TO_COMPANY not in row[1])
            return [to_id for to_id, _ in found]
        # The primary company is named "deal_to_company", every company "..._unlabeled".
        ordered = sorted(rows.results, key=lambda row: row.type.endswith("_unlabeled"))
        return list(dict.fromkeys(str(row.id) for row in ordered))

    def company_with_people(
        self, company_id: str, properties: list[str]
    ) -> tuple[CrmObject | None, list[str]]:
        """Return a company with the ids of its people, in one call (None when HubSpot no
        longer has it; a merged-away id answers with the company it went into)."""
        try:
            company = self._call(
                f"company {company_id}",
                self.api.crm.companies.basic_api.get_by_id,
                company_id,
                properties=properties,
                associations=["contacts"],
            )
        except NotFound:
            return None, []
        rows = (company.associations or {}).get("contacts")
        people = list(dict.fromkeys(str(row.id) for row in (rows.results if rows else [])))
        if rows is not None and rows.paging and rows.paging.next:
            people = self.associated("companies", company.id, "contacts")
        return CrmObject(company.id, company.properties), people

    def _one(self, read_many, kind: str, object_id: str, properties: list[str]) -> dict:
        found = read_many([object_id], properties)
        if object_id not in found:
            raise _not_found(kind, object_id)
        return found[object_id]

    def deal_read(self, deal_id: str, properties: list[str]) -> dict[str, str | None]:
        """Return some of a deal's current properties."""
        return self._one(self.deals_read, "deal", deal_id, properties)

    def company_read(self, company_id: str, properties: list[str]) -> dict[str, str | None]:
        """Return some of a company's current properties."""
        return self._one(self.companies_read, "company", company_id, properties)

    def deal_update(self, deal_id: str, properties: dict[str, str]) -> None:
        """Write properties on a deal."""
        failed = self.deals_update({deal_id: properties})
        if failed:
            raise failed[deal_id]

    def company_update(self, company_id: str, properties: dict[str, str]) -> None:
        """Write properties on a company."""
        failed = self.companies_update({company_id: properties})
        if failed:
            raise failed[company_id]

    # Properties: what the hub's custom properties need (connectors/hubspot/properties.py).

    def property_groups(self, object_type: str) -> set[str]:
        """Return the names of the property groups of an object type."""
        groups_api = self.api.crm.properties.groups_api
        found = self._call(f"the {object_type} property groups", groups_api.get_all, object_type)
        return {group.name for group in found.results}

    def property_group_create(self, object_type: str, group: PropertyGroupCreate) -> None:
        """Create a property group on an object type."""
        groups_api = self.api.crm.properties.groups_api
        self._call(f"a {object_type} property group", groups_api.create, object_type, group)

    def properties_read(self, object_type: str) -> dict[str, Any]:
        """Return each property of an object type (type, field type, options), by name."""
        core_api = self.api.crm.properties.core_api
        found = self._call(f"the {object_type} properties", core_api.get_all, object_type)
        return {row.name: row for row in found.results}

    def property_create(self, object_type: str, spec: PropertyCreate) -> None:
        """Create a property on an object type."""
        core_api = self.api.crm.properties.core_api
        self._call(f"the {object_type} property {spec.name}", core_api.create, object_type, spec)

    def property_options_set(self, object_type: str, name: str, options: list[OptionInput]) -> None:
        """Replace the choices of an enumeration property (HubSpot keeps only those sent)."""
        core_api = self.api.crm.properties.core_api
        update = PropertyUpdate(options=options)
        self._call(f"the {object_type} property {name}", core_api.update, object_type, name, update)


def _not_found(kind: str, object_id: str) -> NotFound:
    return NotFound(
        f"HubSpot has no {kind} {object_id}; it may have been deleted or merged.",
        system="hubspot",
        fix="Check the record in HubSpot. If it was merged, dismiss this item.",
    )


def _batch_errors(response, ids: list[str], object_type: str) -> dict[str, ConnectorError]:
    """Read a 207's errors: which ids failed and why (missing ones as NotFound)."""
    failed: dict[str, ConnectorError] = {}
    kind = object_type.rstrip("s").replace("_", " ")
    for error in getattr(response, "errors", None) or []:
        named = [str(i) for i in ((error.context or {}).get("ids") or [])] or ids
        for object_id in named:
            if error.category == "OBJECT_NOT_FOUND":
                failed[object_id] = _not_found(kind, object_id)
            else:
                failed[object_id] = Invalid(
                    f"HubSpot refused the change to {kind} {object_id}: {error.message}",
                    system="hubspot",
                    fix="Check the record in HubSpot, then press Retry.",
                    detail=f"{error.category}: {error.message}",
                )
    return failed
