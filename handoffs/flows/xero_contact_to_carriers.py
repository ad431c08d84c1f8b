"""A contact changed in Xero, which owns billing name, billing address and ABN → the HubSpot
company and the register's customer carry Xero's values (only what differs is written)."""

from connectors.base import BusinessEvent
from connectors.hubspot.client import HubSpotClient
from connectors.xero.accounting import XeroAccounting
from connectors.xero.mapping import billing_address_line, customer_field
from connectors.xero.terms import terms_forget
from handoffs.flows.invoice_to_crm import connection_for
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from operations.models import Customer
from operations.services import customer_fields_set
from ownership.models import FieldRule, Link


def key(happened: BusinessEvent) -> str:
    """One run per change Xero told of."""
    return f"xero:contact:{happened.object_id}:{happened.data.get('event')}"


def _linked(contact_id: str) -> dict[str, str]:
    """The contact's customer in the other systems: {system: id}."""
    record_id = (
        Link.objects.filter(system="xero", record_type="customer", external_id=contact_id)
        .values_list("record_id", flat=True)
        .first()
    )
    return dict(Link.objects.filter(record_id=record_id).values_list("system", "external_id"))


def perform(run: HandoffRun) -> Outcome:
    """Read the contact; write each Xero-owned field where a carrier's copy differs."""
    terms_forget(run.record_ref)  # its payment terms may have changed too
    linked = _linked(run.record_ref)
    if not linked:
        return Outcome("The contact is not one of the hub's customers.", skipped=True)
    contact = XeroAccounting(connection_for(run.payload.get("tenant"))).contact_get(run.record_ref)
    run.record_label = contact.name
    HandoffRun.objects.filter(pk=run.pk).update(record_label=contact.name)
    rules = FieldRule.objects.filter(record_type="customer", owner="xero")
    told = []
    if "hubspot" in linked:
        wanted = {r.carriers["hubspot"]: customer_field(contact, r.field) for r in rules
                  if "hubspot" in r.carriers}  # fmt: skip
        hubspot = HubSpotClient()
        current = hubspot.company_read(linked["hubspot"], list(wanted))
        changes = {k: v for k, v in wanted.items() if v and (current.get(k) or "") != v}
        if changes:
            hubspot.company_update(linked["hubspot"], changes)
            told.append(f"HubSpot company {linked['hubspot']}: {', '.join(changes)}")
    customer = Customer.objects.filter(pk=linked.get("operations") or None).first()
    if customer:
        values = {
            "billing_name": contact.name or "",
            "billing_address": billing_address_line(contact),
            "tax_number": customer_field(contact, "tax_number"),
        }
        wanted = {r.carriers["operations"]: values[r.field] for r in rules
                  if "operations" in r.carriers and values[r.field]}  # fmt: skip
        changed = customer_fields_set(customer=customer, changes=wanted)
        if changed:
            told.append(f"the register's customer: {', '.join(changed)}")
    if not told:
        return Outcome(f"Every copy of {contact.name}'s details already agrees with Xero.",
                       skipped=True)  # fmt: skip
    return Outcome(f"Carried Xero's {contact.name} to " + "; ".join(told) + ".")


handoff_register(
    Handoff(
        name="xero_contact_to_carriers",
        label="Xero contact details to the CRM and the register",
        listens_to=frozenset({"xero_contact.updated"}),
        queue="xero",
        record_type="customer",
        key=key,
        perform=perform,
    )
)
