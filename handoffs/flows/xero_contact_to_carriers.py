"""A contact changed in Xero, which owns billing name, billing address and ABN → the HubSpot
company and the register's customer carry Xero's values (only what differs is written)."""

from connectors.base import BusinessEvent
from connectors.hubspot.client import HubSpotClient
from connectors.xero.accounting import XeroAccounting
from connectors.xero.mapping import customer_field
from connectors.xero.terms import terms_forget
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
    contact = XeroAccounting.connected(run.payload.get("tenant")).contact_get(run.record_ref)
    run.record_label = contact.name
    HandoffRun.objects.filter(pk=run.pk).update(record_label=contact.name)
    rules = FieldRule.objects.filter(record_type="customer", owner="xero")

    def wanted(carrier: str) -> dict[str, str]:
        """Xero's values under the carrier's field names (an empty value is never written)."""
        values = {
            r.carriers[carrier]: customer_field(contact, r.field, carrier=carrier)
            for r in rules
            if carrier in r.carriers
        }
        return {name: value for name, value in values.items() if value}

    told = []
    if "hubspot" in linked:
        hubspot, values = HubSpotClient(), wanted("hubspot")
        current = hubspot.company_read(linked["hubspot"], list(values))
        changes = {k: v for k, v in values.items() if (current.get(k) or "") != v}
        if changes:
            hubspot.company_update(linked["hubspot"], changes)
            told.append(f"HubSpot company {linked['hubspot']}: {', '.join(changes)}")
    customer = Customer.objects.filter(pk=linked.get("operations") or None).first()
    if customer:
        changed = customer_fields_set(customer=customer, changes=wanted("operations"))
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
