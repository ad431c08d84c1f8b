"""HubSpot through the official SDK: what a won deal promised, fetched by id."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from hubspot import HubSpot
from hubspot.crm.objects import (
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectId,
    SimplePublicObjectInput,
)
from urllib3.util.retry import Retry

from connectors.calls import call
from connectors.hubspot.errors import translate

DEAL_PROPERTIES = [
    "dealname", "amount", "dealstage", "pipeline", "closedate", "description",
    "site_address", "deal_currency_code",
]  # fmt: skip
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
]
CONTACT_PROPERTIES = ["firstname", "lastname", "email", "phone", "jobtitle"]
LINE_ITEM_PROPERTIES = ["name", "quantity", "price", "amount", "hs_sku", "description"]
PRIMARY_DEAL_TO_COMPANY = 5
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


def _summary(result: Any) -> str:
    """Return a short description of an SDK answer: the ids it carries."""
    rows = getattr(result, "results", None)
    if rows is not None:
        ids = [str(getattr(row, "id", None) or getattr(row, "to_object_id", "?")) for row in rows]
        return f"{len(ids)} result(s): {', '.join(ids[:20])}"
    return f"id {getattr(result, 'id', '?')}"


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
        self.api = HubSpot(
            access_token=access_token or settings.HUBSPOT_ACCESS_TOKEN,
            host=(base_url or settings.HUBSPOT_API_BASE_URL).rstrip("/"),
            # urllib3 would otherwise sleep through 429s and retry on its own, out of
            # sight; the hub decides retries itself (handoffs/runs.py).
            retry=Retry(total=0, respect_retry_after_header=False, raise_on_status=False),
        )
        self.timeout = timeout or settings.HUBSPOT_TIMEOUT_SECONDS

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        request = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        with call(self.system, method.__qualname__, request) as entry:
            try:
                result = method(*args, _request_timeout=self.timeout, **kwargs)
            except Exception as exc:
                raise translate(exc, what=what) from exc
            entry["response"] = _summary(result)
            return result

    def deal_stage(self, *, pipeline_id: str, stage_id: str) -> DealStage:
        """Return a deal stage's metadata, from a short-lived cache of the pipelines."""
        stages = cache.get("hubspot:deal-stages")
        if stages is None or stage_id not in stages:
            stages = self._deal_stages()
            cache.set("hubspot:deal-stages", stages, PIPELINE_CACHE_SECONDS)
        if stage_id not in stages:
            return DealStage(stage_id, stage_id, pipeline_id, False, 0.0)
        return stages[stage_id]

    def _deal_stages(self) -> dict[str, DealStage]:
        pipelines = self._call(
            "the deal pipelines", self.api.crm.pipelines.pipelines_api.get_all, object_type="deals"
        )
        return {
            stage.id: DealStage(
                id=stage.id,
                label=stage.label,
                pipeline_id=pipeline.id,
                is_closed=str((stage.metadata or {}).get("isClosed", "false")).lower() == "true",
                probability=float((stage.metadata or {}).get("probability") or 0),
            )
            for pipeline in pipelines.results
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

    def _batch_read(self, object_type: str, ids: list[str], properties: list[str]) -> list:
        if not ids:
            return []
        batch_api = getattr(self.api.crm, object_type).batch_api
        request = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in ids],
            properties=properties,
            properties_with_history=[],
        )
        response = self._call(f"{object_type} {', '.join(ids)}", batch_api.read, request)
        by_id = {row.id: CrmObject(row.id, row.properties) for row in response.results}
        return [by_id[i] for i in ids if i in by_id]

    def deal_bundle(self, deal_id: str) -> DealBundle:
        """Fetch a deal with everything a job needs from it."""
        deal = self._call(
            f"deal {deal_id}",
            self.api.crm.deals.basic_api.get_by_id,
            deal_id,
            properties=DEAL_PROPERTIES,
        )
        props = deal.properties
        stage = self.deal_stage(
            pipeline_id=props.get("pipeline") or "default", stage_id=props.get("dealstage") or ""
        )
        companies = self._associated("deals", deal_id, "companies")
        companies.sort(key=lambda row: PRIMARY_DEAL_TO_COMPANY not in row[1])
        company_ids = [company_id for company_id, _ in companies[:1]]
        contact_ids = [
            contact_id for contact_id, _ in self._associated("deals", deal_id, "contacts")
        ]
        line_ids = [line_id for line_id, _ in self._associated("deals", deal_id, "line_items")]
        company = self._batch_read("companies", company_ids, COMPANY_PROPERTIES)
        return DealBundle(
            deal=CrmObject(deal.id, props),
            stage=stage,
            company=company[0] if company else None,
            contacts=self._batch_read("contacts", contact_ids, CONTACT_PROPERTIES),
            line_items=self._batch_read("line_items", line_ids, LINE_ITEM_PROPERTIES),
        )

    def deal_update(self, deal_id: str, properties: dict[str, str]) -> None:
        """Write properties on a deal."""
        self._call(
            f"deal {deal_id}",
            self.api.crm.deals.basic_api.update,
            deal_id,
            SimplePublicObjectInput(properties=properties),
        )

    def deal_read(self, deal_id: str, properties: list[str]) -> dict[str, str | None]:
        """Return some of a deal's current properties."""
        deal = self._call(
            f"deal {deal_id}",
            self.api.crm.deals.basic_api.get_by_id,
            deal_id,
            properties=properties,
        )
        return {name: deal.properties.get(name) for name in properties}

    def company_read(self, company_id: str, properties: list[str]) -> dict[str, str | None]:
        """Return some of a company's current properties."""
        company = self._call(
            f"company {company_id}",
            self.api.crm.companies.basic_api.get_by_id,
            company_id,
            properties=properties,
        )
        return {name: company.properties.get(name) for name in properties}

    def company_update(self, company_id: str, properties: dict[str, str]) -> None:
        """Write properties on a company."""
        self._call(
            f"company {company_id}",
            self.api.crm.companies.basic_api.update,
            company_id,
            SimplePublicObjectInput(properties=properties),
        )
