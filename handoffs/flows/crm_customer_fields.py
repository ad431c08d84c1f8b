"""A customer field the CRM only carries was changed there (a company's name, address or
ABN, which Xero owns): compare it with Xero's value, then restore, flag or ignore by rule."""

from django.conf import settings

from connectors.base import BusinessEvent
from connectors.errors import Disagreement
from connectors.hubspot.client import HubSpotClient
from connectors.xero.accounting import XeroAccounting
from connectors.xero.mapping import customer_field
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from ownership.models import FieldRule
from ownership.selectors import Link, rule_carried_as


def key(happened: BusinessEvent) -> str:
    """One run per change event."""
    data = happened.data
    return f"hubspot:company:{happened.object_id}:{data.get('property')}:{data.get('event')}"


def carried_rule(prop: str) -> FieldRule | None:
    """Return the customer rule, owned by Xero, whose HubSpot copy is this company property."""
    return rule_carried_as(record_type="customer", system="hubspot", name=prop, owner="xero")


def _xero_contact(company_id: str) -> str | None:
    link = Link.objects.filter(system="hubspot", record_type="customer", external_id=company_id)
    record_id = link.values_list("record_id", flat=True).first()
    return (
        Link.objects.filter(record_id=record_id, system="xero")
        .values_list("external_id", flat=True)
        .first()
    )


def perform(run: HandoffRun) -> Outcome:
    """Compare HubSpot's value with Xero's; restore, flag or ignore as the rule says."""
    prop = run.payload.get("property", "")
    if settings.HUBSPOT_APP_ID and str(run.payload.get("source_id")) == settings.HUBSPOT_APP_ID:
        return Outcome(f"{prop} changed by the hub itself (an echo): nothing to do.", skipped=True)
    rule = carried_rule(prop)
    contact_id = _xero_contact(run.record_ref)
    if rule is None or contact_id is None:
        return Outcome(
            f"Company {run.record_ref} has no Xero contact (or no rule) to compare {prop} with.",
            skipped=True,
        )
    contact = XeroAccounting.connected().contact_get(contact_id)
    run.record_label = contact.name
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    owner_value = customer_field(contact, rule.field)
    # Judge the company as it is now: events arrive late and out of order.
    value = HubSpotClient().company_read(run.record_ref, [prop])[prop] or ""
    same = "".join(value.split()).lower() == "".join(owner_value.split()).lower()
    if same or rule.on_disagreement == "ignore":
        return Outcome(f"HubSpot's {prop} {value!r}; Xero's {owner_value!r}: nothing to do.",
                       skipped=True)  # fmt: skip
    label = rule.field.replace("_", " ")
    details = {
        "field": rule.field, "label": label, "record_type": "customer",
        "owner": "xero", "owner_name": "Xero", "other_name": "HubSpot",
        "owner_value": owner_value, "other_system": "hubspot", "other_field": prop,
        "other_value": value, "other_object": "companies", "other_id": run.record_ref,
        "xero_contact": contact_id, "editable_by": rule.editable_by,
    }  # fmt: skip
    if rule.on_disagreement == "restore":
        HubSpotClient().company_update(run.record_ref, {prop: owner_value})
        return Outcome(f"Restored {prop} on the company to Xero's {owner_value!r} "
                       f"(HubSpot had {value!r}).", result=details)  # fmt: skip
    raise Disagreement(
        title=f"HubSpot disagrees about the {label}",
        message=f"Someone set {prop} of {contact.name} to {value!r} in HubSpot, but Xero owns "
        f"the {label} and says {owner_value!r}.",
        system="hubspot",
        fix="Choose which value is right. Keeping Xero's value writes it back to HubSpot; "
        "taking HubSpot's changes the contact in Xero (where the rule lets you).",
        details=details,
    )


handoff_register(
    Handoff(
        name="crm_customer_fields",
        label="CRM change to a customer field Xero owns",
        listens_to=frozenset({"customer.changed"}),
        queue="hubspot",
        record_type="customer",
        key=key,
        perform=perform,
        applies=lambda happened: carried_rule(happened.data.get("property", "")) is not None,
    )
)
