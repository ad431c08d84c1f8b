"""A minimal CRM that speaks the hub's CRM protocol, kept in memory: the test double that
proves a second CRM is one class plus a registration (connectors/README.md)."""

from decimal import Decimal

from connectors.base import (
    Address,
    BusinessEvent,
    CustomerDetails,
    DealState,
    JobPromise,
    Notice,
    PromisedLine,
    Value,
)
from connectors.errors import NotFound

CUSTOMER = (
    "billing_name",
    "billing_address",
    "tax_number",
    "account_notes",
    "contact_name",
    "email",
    "phone",
)
DEAL = {
    "deal": ("sales_stage", "amount", "line_items"),
    "job": ("number", "status", "schedule"),
    "invoice": ("number", "status", "amount_paid", "amount_due", "last_payment_date"),
}


class MiniCrm:
    """Companies and deals in two dictionaries; every shared field under its own name."""

    system = "minicrm"
    label = "Mini CRM"
    companies: dict[str, dict[str, Value]] = {}
    deals: dict[str, dict] = {}
    fields = {("customer", name): name for name in CUSTOMER} | {
        (kind, name): f"{kind}_{name}" for kind, names in DEAL.items() for name in names
    }
    writable = frozenset(fields)

    @classmethod
    def reset(cls) -> None:
        cls.companies.clear()
        cls.deals.clear()

    def _values(self, record_type: str, external_id: str) -> dict[str, Value]:
        if record_type == "customer":
            return self.companies[external_id]
        return self.deals[external_id].setdefault(record_type, {})

    def values_read(self, record_type: str, ids: list[str]) -> dict[str, dict[str, Value]]:
        where = self.companies if record_type == "customer" else self.deals
        return {i: dict(self._values(record_type, i)) for i in ids if i in where}

    def values_write(self, record_type: str, changes: dict[str, dict]) -> dict[str, list[Notice]]:
        for external_id, values in changes.items():
            self._values(record_type, external_id).update(values)
        return dict.fromkeys(changes, [])

    def write_held(self, record_type: str, external_id: str, values: dict) -> Notice | None:
        return None

    def business_event(self, payload: dict) -> BusinessEvent | None:
        data = {"event": payload["event"], "stage": payload.get("stage", "")}
        return BusinessEvent(payload["type"], self.system, payload["id"], data)

    def customer_read(self, external_id: str) -> CustomerDetails:
        if external_id not in self.companies:
            raise NotFound(f"Mini CRM has no company {external_id}.", system=self.system)
        c = self.companies[external_id]
        return CustomerDetails(
            system=self.system,
            external_id=external_id,
            name=str(c["billing_name"]),
            email=str(c.get("email") or ""),
            phone=str(c.get("phone") or ""),
            address=c.get("billing_address") or Address(),
            tax_number=str(c.get("tax_number") or ""),
            contact_name=str(c.get("contact_name") or ""),
        )

    def customer_candidates(self, details: CustomerDetails) -> list[CustomerDetails]:
        return [self.customer_read(i) for i in self.companies]

    def customers_changed(self, since) -> list[CustomerDetails]:
        return [self.customer_read(i) for i in self.companies]  # it keeps no change times

    def customers_moved(self, ids: list[str], *, unless_read_lately: bool = False) -> dict:
        return {}  # it merges and archives nothing

    def customers_of_contact(self, contact_id: str) -> list[str]:
        return []

    def deals_lost(self, deal_ids: list[str]) -> dict[str, str]:
        stages = {i: self.deals[i]["deal"]["sales_stage"] for i in deal_ids if i in self.deals}
        return {i: stage for i, stage in stages.items() if stage == "lost"}

    def deals_property(self, deal_ids: list[str], name: str) -> dict[str, str]:
        return {i: str(self.deals[i]["deal"].get(name) or "") for i in deal_ids if i in self.deals}

    def deals_won_unworked(self) -> dict[str, str]:
        return {i: "won" for i, d in self.deals.items() if d["deal"]["sales_stage"] == "won"}

    def deals_pipeline(self, deal_ids: list[str]) -> dict[str, str]:
        return {i: "sales" for i in deal_ids if i in self.deals}  # it has one pipeline

    def pipelines(self) -> dict[str, str]:
        return {"sales": "Sales"}

    def stage(self, stage_id: str) -> tuple[str, bool]:
        return stage_id, stage_id == "won"

    def deal_state(self, deal_id: str) -> DealState:
        deal = self.deals[deal_id]
        won = deal["deal"]["sales_stage"] == "won"
        lines = deal["deal"]["line_items"]
        promise = JobPromise(
            origin_system=self.system,
            origin_ref=deal_id,
            title=deal["title"],
            customer=self.customer_read(deal["company"]),
            amount=deal["deal"]["amount"],
            currency="AUD",
            lines=lines,
            site_address="",
            site_contact="",
            notes="",
        )
        return DealState(deal_id, deal["title"], deal["deal"]["sales_stage"], won, promise)


def mini_business() -> None:
    """One company with one deal at 'quoted'."""
    MiniCrm.reset()
    MiniCrm.companies["c1"] = {
        "billing_name": "Kookaburra Cafe",
        "billing_address": Address("3 Beach Rd", "Manly", "NSW", "2095", "Australia"),
        "tax_number": "",
        "account_notes": "",
        "contact_name": "Mia Chen",
        "email": "mia@kookaburra.example",
        "phone": "02 9977 0000",
    }
    MiniCrm.deals["d1"] = {
        "title": "Kookaburra Cafe - lighting",
        "company": "c1",
        "deal": {
            "sales_stage": "quoted",
            "amount": Decimal("220.00"),
            "line_items": (PromisedLine("Labour", Decimal("2"), Decimal("110.00"), "LABOUR-HR"),),
        },
    }
