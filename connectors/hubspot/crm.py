"""HubSpot as the hub's CRM: the `CrmConnector` protocol over hubspot-api-client.

Where HubSpot keeps each shared field: a customer is a company (its billing name,
address parts, ABN, phone and notes) with its main contact person (name and email); a
job's progress, its invoice's payment and what was promised live on the deal.
"""

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings

from connectors.base import (
    Address,
    BusinessEvent,
    CustomerDetails,
    CustomerMoved,
    DealState,
    Notice,
    PromisedLine,
    Value,
    abn_forms,
)
from connectors.errors import ConnectorError, Invalid
from connectors.hubspot.client import LINE_ITEM_PROPERTIES, HubSpotClient
from connectors.hubspot.mapping import business_event, job_promise, line_tax
from connectors.hubspot.properties import PropertiesReport, properties_ensure
from integration_hub import labels

SYSTEM = "hubspot"
# Up to this many companies are read one call each, with their people's ids; more, in batches.
FEW = 2
COMPANY = ["name", "address", "city", "state", "zip", "country", "abn", "description", "phone"]
DEAL = {
    "deal": {"sales_stage": "dealstage", "amount": "amount"},
    "job": {"number": "job_number", "status": "job_status", "schedule": "job_scheduled_start"},
    "invoice": {
        "number": "invoice_number",
        "status": "payment_status",
        "amount_paid": "amount_paid",
        "amount_due": "amount_due",
        "last_payment_date": "last_payment_date",
    },
}
CUSTOMER = {
    "billing_name": "name",
    "billing_address": "address",
    "tax_number": "abn",
    "account_notes": "description",
    "contact_name": "contact",
    "email": "email",
    "phone": "phone",
}


def _text(value: Value) -> str:
    """A value as a HubSpot property holds it."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text not in (None, "") else None
    except ArithmeticError:
        return None


def _line(item, deal_id: str) -> PromisedLine:
    """A deal's line item as the hub compares it (lenient numbers, as HubSpot shows them)."""
    p = item.properties
    return PromisedLine(
        description=p.get("name") or p.get("description") or "",
        quantity=_decimal(p.get("quantity")) or Decimal("1"),
        unit_price=_decimal(p.get("price")) or Decimal("0"),
        item_code=p.get("hs_sku") or "",
        tax=line_tax(item, f"deal {deal_id}"),
        discount=_decimal(p.get("hs_discount_percentage")) or Decimal("0"),
    )


class HubSpotCrm:
    """HubSpot, as the CRM the hub's engine and flows see."""

    system = SYSTEM
    label = labels.SYSTEMS[SYSTEM]
    fields = {
        **{("customer", name): prop for name, prop in CUSTOMER.items()},
        ("deal", "line_items"): "line_items",
        **{(kind, name): prop for kind, names in DEAL.items() for name, prop in names.items()},
    }
    writable = frozenset(
        {("customer", name) for name in CUSTOMER}
        | {("deal", "amount")}
        | {(kind, name) for kind in ("job", "invoice") for name in DEAL[kind]}
    )

    def __init__(self) -> None:
        self.client = HubSpotClient()
        # A deal holds the deal's, the job's and the invoice's fields: read once for all three
        # while this connector lives (one engine run).
        self._deals: dict[str, dict] = {}

    # Shared fields ---------------------------------------------------------------------

    def values_read(self, record_type: str, ids: list[str]) -> dict[str, dict[str, Value]]:
        """Return each record's current values, reading 100 companies or deals a call."""
        if record_type == "customer":
            return self._customers_read(ids)
        props = self._deals_read(ids)
        values = {
            deal_id: {name: found.get(prop) or "" for name, prop in DEAL[record_type].items()}
            for deal_id, found in props.items()
        }
        for found in values.values():
            for name in ("amount", "amount_paid", "amount_due"):
                if name in found:
                    found[name] = _decimal(found[name])  # type: ignore[arg-type]
        if record_type == "deal":
            lines = self._lines(list(values))
            for deal_id in values:
                values[deal_id]["line_items"] = lines.get(deal_id, ())
        return values  # type: ignore[return-value]

    def _deals_read(self, ids: list[str]) -> dict[str, dict]:
        missing = [i for i in ids if i not in self._deals]
        if missing:
            wanted = [prop for names in DEAL.values() for prop in names.values()]
            self._deals |= self.client.deals_read(missing, wanted)
        return {i: self._deals[i] for i in ids if i in self._deals}

    def _lines(self, deal_ids: list[str]) -> dict[str, tuple[PromisedLine, ...]]:
        """Each deal's line items, in two calls for all the deals."""
        line_ids = self.client.associated_many("deals", deal_ids, "line_items")
        every = [i for ids in line_ids.values() for i in ids]
        found = self.client._read_many("line_items", every, LINE_ITEM_PROPERTIES) if every else {}
        return {
            deal_id: tuple(_line(found[i], deal_id) for i in ids if i in found)
            for deal_id, ids in line_ids.items()
        }

    def _contacts_of(self, company_ids: list[str]) -> dict[str, str | None]:
        """Each company's main contact person: the first one associated with it."""
        found = self.client.associated_many("companies", company_ids, "contacts")
        return {
            company_id: min(found.get(company_id) or [None], key=lambda i: int(i or 0))
            for company_id in company_ids
        }

    def _customers_read(self, ids: list[str]) -> dict[str, dict[str, Value]]:
        """The companies' values with their main people's. A company or two: each read with
        its people's ids (a call each); more: 100 companies a call and their people in one
        more. Then the main people, in one call."""
        if len(ids) > FEW:
            return self._customers_of(self.client.companies_read(ids, COMPANY))
        companies: dict[str, dict] = {}
        people: dict[str, str | None] = {}
        for company_id in ids:
            company, persons = self.client.company_with_people(company_id, COMPANY)
            if company is not None:
                companies[company.id] = company.properties
                people[company.id] = min(persons, key=int, default=None)
        return self._customers_of(companies, people)

    def _customers_of(
        self, companies: dict[str, dict], people: dict[str, str | None] | None = None
    ) -> dict[str, dict[str, Value]]:
        """Companies' values with their main contacts' (two calls per 100 companies, one
        when their main people are known)."""
        if people is None:
            people = self._contacts_of(list(companies)) if companies else {}
        contacts = self.client.contacts_read([c for c in people.values() if c])
        return {
            company_id: self._customer_values(props, contacts.get(people[company_id] or "", {}))
            for company_id, props in companies.items()
        }

    def _customer_values(self, company: dict, contact: dict) -> dict[str, Value]:
        name = " ".join(p for p in (contact.get("firstname"), contact.get("lastname")) if p)
        return {
            "billing_name": company.get("name") or "",
            "billing_address": Address(
                company.get("address") or "",
                company.get("city") or "",
                company.get("state") or "",
                company.get("zip") or "",
                company.get("country") or "",
            ),
            "tax_number": company.get("abn") or "",
            "account_notes": company.get("description") or "",
            "contact_name": name,
            "email": contact.get("email") or "",
            "phone": company.get("phone") or "",
        }

    def values_write(
        self, record_type: str, changes: dict[str, dict]
    ) -> dict[str, list[Notice] | ConnectorError]:
        """Write the fields on the companies (and their main contacts) or on the deals, 100
        records a call; answer each record's outcome."""
        if record_type != "customer":
            return self.values_write_together({record_type: changes})[record_type]
        companies, people = {}, {}
        for company_id, values in changes.items():
            companies[company_id], people[company_id] = _customer_props(values)
        failed = self.client.companies_update({i: p for i, p in companies.items() if p})
        wanted = [i for i, person in people.items() if person and i not in failed]
        contacts = self._contacts_of(wanted) if wanted else {}
        for company_id in wanted:
            if contacts[company_id] is None:
                failed[company_id] = Invalid(
                    f"HubSpot company {company_id} has no contact person to hold the "
                    f"{' and '.join(p for p in people[company_id] if p != 'lastname')}.",
                    system=SYSTEM,
                    fix="Add the customer's contact person to the company in HubSpot, then "
                    "press Retry.",
                )
        to_write = {contacts[i]: people[i] for i in wanted if i not in failed}
        refused = self.client.contacts_update(to_write) if to_write else {}
        for company_id in wanted:
            if contacts[company_id] in refused:
                failed[company_id] = refused[contacts[company_id]]
        return {i: failed.get(i, []) for i in changes}

    def values_write_together(
        self, changes: dict[str, dict[str, dict]]
    ) -> dict[str, dict[str, list[Notice] | ConnectorError]]:
        """Write the fields of several record types ({record type: {id: values}}): a deal
        holds the deal's, its job's and its invoice's, written in one call for them all
        (100 deals a call); companies as `values_write` does."""
        answers = {}
        if "customer" in changes:
            answers["customer"] = self.values_write("customer", changes["customer"])
        on_deals = {kind: held for kind, held in changes.items() if kind != "customer"}
        props: dict[str, dict[str, str]] = {}
        for record_type, held in on_deals.items():
            for deal_id, values in held.items():
                written = {DEAL[record_type][name]: _text(v) for name, v in values.items()}
                props.setdefault(deal_id, {}).update(written)
        failed = self.client.deals_update(props) if props else {}
        for deal_id, written in props.items():
            if deal_id not in failed:
                self._deals.get(deal_id, {}).update(written)
        for record_type, held in on_deals.items():
            answers[record_type] = {i: failed.get(i, []) for i in held}
        return answers

    def values_read_ahead(self, wanted: dict[str, list[str]]) -> None:
        """Read every deal the engine is about to ask for, whichever record types it holds
        them for, in one call (100 deals a call): `values_read` then finds them read."""
        self._deals_read([i for kind, ids in wanted.items() if kind != "customer" for i in ids])

    def write_held(self, record_type: str, external_id: str, values: dict) -> Notice | None:
        """HubSpot takes every write at once."""
        return None

    def business_event(self, payload: dict) -> BusinessEvent | None:
        """A stored webhook event in the hub's words; the hub's own writes coming back
        (HubSpot names the app that made them) are marked as echoes."""
        happened = business_event(payload)
        app = settings.HUBSPOT_APP_ID
        if happened is not None and app and str(payload.get("sourceId")) == str(app):
            happened.data["echo"] = True
        return happened

    # Customers and deals ----------------------------------------------------------------

    def customer_read(self, external_id: str) -> CustomerDetails:
        """Return what HubSpot knows of a company and its main contact."""
        values = self._customers_read([external_id])
        if not values:
            self.client.company_read(external_id, ["name"])  # raises HubSpot's NotFound
        # A merged-away id answers with the company it was merged into, under its own id.
        company_id = external_id if external_id in values else next(iter(values))
        return _details(company_id, values[company_id])

    def customer_candidates(self, details: CustomerDetails) -> list[CustomerDetails]:
        """Return companies with the same ABN or domain, or sharing a word of the name."""
        groups = [
            [{"property_name": "abn", "operator": "EQ", "value": form}]
            for form in abn_forms(details.tax_number)
        ]
        domain = details.email.rpartition("@")[2] if "@" in details.email else ""
        if domain:
            groups.append([{"property_name": "domain", "operator": "EQ", "value": domain}])
        words = [w for w in details.name.replace(",", " ").split() if len(w) > 2][:2]
        groups += [
            [{"property_name": "name", "operator": "CONTAINS_TOKEN", "value": w}] for w in words
        ]
        if not groups:
            return []
        found = self.client.companies_search(groups[:5], ["name"])
        values = self._customers_read(list(found))
        return [_details(company_id, v) for company_id, v in values.items()]

    def customers_changed(self, since: datetime | None) -> list[CustomerDetails]:
        """Return the companies changed after `since` (all of them without it)."""
        values = self._customers_of(self.client.companies_changed(since, COMPANY))
        return [_details(company_id, v) for company_id, v in values.items()]

    def customers_moved(
        self, ids: list[str], *, unless_read_lately: bool = False
    ) -> dict[str, CustomerMoved]:
        """Return the companies among these merged into another one (HubSpot archives none
        that it keeps: a deleted company is simply gone); all are read (the hub keeps no
        note of when it read a company)."""
        merged = self.client.merged_into("companies", ids) if ids else {}
        return {i: CustomerMoved(i, survivor) for i, survivor in merged.items()}

    def customers_of_contact(self, contact_id: str) -> list[str]:
        """Return the companies a contact person belongs to."""
        return self.client.associated("contacts", contact_id, "companies")

    def customers_of_contacts(self, contact_ids: list[str]) -> dict[str, list[str]]:
        """Return the companies each of these contact people belongs to, 1,000 people a
        call; people HubSpot does not have are left out."""
        return self.client.associated_many("contacts", contact_ids, "companies")

    def deals_lost(self, deal_ids: list[str]) -> dict[str, str]:
        """Return which of these deals are closed and not won: id → the stage's label."""
        stages = {
            deal_id: self.client.deal_stage(pipeline_id=p.get("pipeline") or "", stage_id=stage)
            for deal_id, p in self.client.deals_read(deal_ids, ["dealstage", "pipeline"]).items()
            if (stage := p.get("dealstage"))
        }
        return {i: s.label for i, s in stages.items() if s.is_closed and not s.is_won}

    def deals_property(self, deal_ids: list[str], name: str) -> dict[str, str]:
        """Return one property of many deals (id → value, "" when unset), 100 a call."""
        found = self.client.deals_read(deal_ids, [name]) if deal_ids else {}
        return {deal_id: str(props.get(name) or "") for deal_id, props in found.items()}

    def deals_pipeline(self, deal_ids: list[str]) -> dict[str, str]:
        """Return the pipeline each of these deals is in now, 100 deals a call."""
        found = self.deals_property(deal_ids, "pipeline")
        return {deal_id: pipeline or "default" for deal_id, pipeline in found.items()}

    def pipelines(self) -> dict[str, str]:
        """Return every deal pipeline: id → its name."""
        return self.client.deal_pipelines()

    def properties_ensure(self) -> PropertiesReport:
        """Make the custom properties the hub writes that HubSpot does not have yet."""
        return properties_ensure(self.client)

    def deals_won_unworked(self) -> dict[str, str]:
        """Return the won deals with no job number yet: id → their stage's id."""
        return self.client.deals_in_stages(self.client.won_stages(), without="job_number")

    def deal_state(self, deal_id: str) -> DealState:
        """Return the deal's stage now and, when won, what it promised (four calls at most;
        a deal not won, one)."""
        bundle = self.client.deal_bundle(deal_id)
        title = bundle.deal.properties.get("dealname") or f"Deal {deal_id}"
        promise, problem = None, None
        if bundle.stage.is_won:
            try:
                promise = job_promise(bundle)
            except Invalid as invalid:
                problem = invalid
            else:
                # The customer as the engine reads it (the company and its main person).
                person = bundle.main_contact.properties if bundle.main_contact else {}
                company = bundle.company
                values = self._customer_values(company.properties, person)  # type: ignore[union-attr]
                promise = replace(promise, customer=_details(company.id, values))  # type: ignore[union-attr]
        return DealState(deal_id, title, bundle.stage.label, bundle.stage.is_won, promise, problem)

    def stage(self, stage_id: str) -> tuple[str, bool]:
        """Return a deal stage's name and whether it is a won one, from the pipelines (kept a
        few minutes: no call for most stage changes)."""
        found = self.client.deal_stage(pipeline_id="", stage_id=stage_id)
        return found.label, found.is_won


def _details(company_id: str, found: dict) -> CustomerDetails:
    """A company's values as the customer details matching compares."""
    return CustomerDetails(
        system=SYSTEM,
        external_id=company_id,
        name=str(found["billing_name"]),
        email=str(found["email"]),
        phone=str(found["phone"]),
        address=found["billing_address"],
        tax_number=str(found["tax_number"]),
        contact_name=str(found["contact_name"]),
    )


def _customer_props(values: dict) -> tuple[dict[str, str], dict[str, str]]:
    """The company's and the main contact's properties that hold these customer fields."""
    company: dict[str, str] = {}
    person: dict[str, str] = {}
    for name, value in values.items():
        if name == "billing_address":
            address = value or Address()
            company |= {
                "address": address.street,
                "city": address.city,
                "state": address.region,
                "zip": address.postcode,
                "country": address.country,
            }
        elif name == "contact_name":
            first, _, last = _text(value).partition(" ")
            person |= {"firstname": first, "lastname": last}
        elif name == "email":
            person["email"] = _text(value)
        else:
            company[CUSTOMER[name]] = _text(value)
    return company, person
