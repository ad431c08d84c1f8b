"""HubSpot shapes turned into the hub's: vendor events and promised jobs."""

from decimal import Decimal, InvalidOperation

from connectors.base import Address, BusinessEvent, CustomerDetails, JobPromise, PromisedLine
from connectors.errors import Invalid
from connectors.hubspot.client import CrmObject, DealBundle

SYSTEM = "hubspot"
NOUNS = {"deal": "deal", "company": "customer", "contact": "contact", "line_item": "line_item"}


def business_event(payload: dict) -> BusinessEvent | None:
    """Return the business event a HubSpot webhook event stands for, or None if none does."""
    noun, _, action = str(payload.get("subscriptionType", "")).partition(".")
    if noun not in NOUNS:
        return None
    object_id = str(payload["objectId"])
    source = {
        "change_source": payload.get("changeSource", ""),
        "source_id": payload.get("sourceId"),
        "event": f"{payload.get('occurredAt')}:{payload.get('eventId')}",
    }
    if action == "propertyChange":
        prop, value = payload.get("propertyName", ""), payload.get("propertyValue")
        if noun == "deal" and prop == "dealstage":
            return BusinessEvent(
                "deal.stage_changed", SYSTEM, object_id, {"stage": value, **source}
            )
        data = {"property": prop, "value": value, **source}
        return BusinessEvent(f"{NOUNS[noun]}.changed", SYSTEM, object_id, data)
    if action == "creation":
        return BusinessEvent(f"{NOUNS[noun]}.created", SYSTEM, object_id, source)
    if action == "deletion":
        return BusinessEvent(f"{NOUNS[noun]}.deleted", SYSTEM, object_id, source)
    if action == "merge":  # about the survivor: the merged-away ids are followed to it
        merged = [str(i) for i in payload.get("mergedObjectIds") or []]
        survivor = str(payload.get("primaryObjectId") or object_id)
        return BusinessEvent(
            f"{NOUNS[noun]}.merged", SYSTEM, survivor, {"merged": merged, **source}
        )
    return None


def _decimal(value: str | None, *, what: str, deal: CrmObject) -> Decimal:
    try:
        return Decimal(value or "0")
    except InvalidOperation as exc:
        raise Invalid(
            f"{what} on deal '{deal.properties.get('dealname')}' is {value!r}, not a number.",
            system=SYSTEM,
            fix=f"Correct {what} in HubSpot, then press Retry.",
            code="bad_number",
        ) from exc


# A line item's `tax_treatment` (the hub's custom property) in the hub's words; a line
# without one carries GST.
TAX_TREATMENTS = {"": "gst", "gst": "gst", "gst_free": "gst_free", "no_gst": "none"}


def line_tax(item: CrmObject, deal_name: str) -> str:
    """The line item's tax treatment, or Invalid naming the values HubSpot may hold."""
    value = (item.properties.get("tax_treatment") or "").strip().lower()
    if value not in TAX_TREATMENTS:
        raise Invalid(
            f"The line item '{item.properties.get('name')}' on deal '{deal_name}' has tax "
            f"treatment {value!r}, which the hub does not know.",
            system=SYSTEM,
            fix="Set its tax treatment in HubSpot to gst, gst_free or no_gst (or leave it "
            "empty for GST), then press Retry.",
            code="bad_tax_treatment",
        )
    return TAX_TREATMENTS[value]


def _address(props: dict[str, str | None]) -> str:
    parts = [props.get("address"), props.get("city"), props.get("state"), props.get("zip")]
    return ", ".join(part for part in parts if part)


def _person(contact: CrmObject) -> str:
    p = contact.properties
    name = " ".join(part for part in (p.get("firstname"), p.get("lastname")) if part)
    reach = p.get("phone") or p.get("email") or ""
    return f"{name} ({reach})" if reach else name


def job_promise(bundle: DealBundle) -> JobPromise:
    """Return what the won deal promised, or raise Invalid naming what is missing."""
    deal, props = bundle.deal, bundle.deal.properties
    name = props.get("dealname") or f"Deal {deal.id}"
    if bundle.company is None:
        raise Invalid(
            f"The deal '{name}' was won, but it has no company in HubSpot, so the hub does "
            "not know whom the job is for.",
            system=SYSTEM,
            fix="Open the deal in HubSpot, associate the customer's company with it, then press "
            "Retry here.",
            code="deal_without_company",
            field="company",
        )
    company = bundle.company.properties
    contact = bundle.contacts[0] if bundle.contacts else None
    lines = tuple(
        PromisedLine(
            description=item.properties.get("name") or item.properties.get("description") or "",
            quantity=_decimal(item.properties.get("quantity") or "1", what="A quantity", deal=deal),
            unit_price=_decimal(item.properties.get("price"), what="A unit price", deal=deal),
            item_code=item.properties.get("hs_sku") or "",
            tax=line_tax(item, name),
            discount=_decimal(
                item.properties.get("hs_discount_percentage"), what="A discount", deal=deal
            ),
        )
        for item in bundle.line_items
    )
    amount = props.get("amount")
    return JobPromise(
        origin_system=SYSTEM,
        origin_ref=deal.id,
        title=name,
        customer=CustomerDetails(
            system=SYSTEM,
            external_id=bundle.company.id,
            name=company.get("name") or f"HubSpot company {bundle.company.id}",
            email=(contact.properties.get("email") or "") if contact else "",
            phone=company.get("phone") or "",
            address=Address(
                company.get("address") or "",
                company.get("city") or "",
                company.get("state") or "",
                company.get("zip") or "",
                company.get("country") or "",
            ),
            tax_number=company.get("abn") or "",
        ),
        amount=(
            _decimal(amount, what="The amount", deal=deal)
            if amount
            else sum((line.quantity * line.unit_price for line in lines), Decimal("0"))
        ),
        currency=props.get("deal_currency_code") or "AUD",
        lines=lines,
        site_address=props.get("site_address") or _address(company),
        site_contact=_person(contact) if contact else "",
        notes=props.get("description") or "",
    )
