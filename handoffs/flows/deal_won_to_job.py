"""Deal won in the CRM → one job in operations, carrying what was promised."""

from dataclasses import asdict

from django.db import transaction

from connectors.base import BusinessEvent, OperationsConnector
from connectors.errors import Disagreement
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.mapping import job_promise
from connectors.operations.client import JobRegister
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from ownership.models import Record
from ownership.selectors import link_external_id
from ownership.services import link_add, record_for_link


def key(happened: BusinessEvent) -> str:
    """One run per deal and stage: a deal re-entering a stage is the same event."""
    return f"{happened.system}:deal:{happened.object_id}:stage:{happened.data.get('stage')}"


def _new_customer(run: HandoffRun, operations: OperationsConnector, details) -> str:
    """Create the customer, unless a likely duplicate exists and no person has said it is new."""
    candidates = operations.customer_candidates(details=details)
    if candidates and not run.payload.get("new_customer_confirmed"):
        named = "; ".join(f"{c['name']} ({c['why']})" for c in candidates)
        raise Disagreement(
            f"The register may already have '{details.name}' from HubSpot: {named}. The hub "
            "made no second customer and no job yet.",
            title="Possible duplicate customer",
            kind="possible_duplicate",
            system="operations",
            fix="Choose: link the HubSpot company to the existing customer (optionally taking "
            "HubSpot's details), or confirm it is a different customer. The job is then created.",
            details={"field": "customer", "candidates": candidates, "new": asdict(details)},
            root=f"{details.system}:company:{details.external_id}",
        )
    return operations.customer_create(details=details)


def perform(run: HandoffRun) -> Outcome:
    """Fetch the deal; if its stage is a won one, create its job (once)."""
    operations: OperationsConnector = JobRegister()
    bundle = HubSpotClient().deal_bundle(run.record_ref)
    run.record_label = bundle.deal.properties.get("dealname") or ""
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    if not bundle.stage.is_won:
        return Outcome(
            f"The deal is now at '{bundle.stage.label}', which is not a won stage: no job.",
            skipped=True,
        )
    promise = job_promise(bundle)
    with transaction.atomic():
        customer = record_for_link(
            type=Record.Type.CUSTOMER,
            system=promise.customer.system,
            external_id=promise.customer.external_id,
            label=promise.customer.name,
        )
        customer_id = link_external_id(record=customer, system=operations.system)
        if customer_id is None:
            customer_id = _new_customer(run, operations, promise.customer)
            link_add(record=customer, system=operations.system, external_id=customer_id)
        job = operations.job_create(promise=promise, customer_id=customer_id)
        deal = record_for_link(
            type=Record.Type.DEAL, system=run.record_system, external_id=run.record_ref,
            label=promise.title,
        )  # fmt: skip
        record_for_link(
            type=Record.Type.JOB, system=operations.system, external_id=job.number,
            label=promise.title,
        )  # fmt: skip
    verb = "Created" if job.created else "Found the existing"
    return Outcome(
        f"{verb} job {job.number} for {promise.customer.name}.",
        result={"job": job.number, "customer_record": customer.pk, "deal_record": deal.pk},
    )


def preview(run: HandoffRun) -> str:
    """Describe the job a retry would create, reading HubSpot but writing nothing."""
    bundle = HubSpotClient().deal_bundle(run.record_ref)
    if not bundle.stage.is_won:
        return f"Nothing: the deal is now at '{bundle.stage.label}', which is not a won stage."
    promise = job_promise(bundle)
    lines = "\n".join(
        f"  - {line.quantity} x {line.description} ({line.item_code or 'no item code'}) "
        f"at {line.unit_price}"
        for line in promise.lines
    )
    return (
        f"Create a job in the job register for {promise.customer.name}:\n"
        f"  {promise.title}, {promise.currency} {promise.amount}\n"
        f"  site: {promise.site_address or '(none)'}; contact: {promise.site_contact or '(none)'}\n"
        f"{lines or '  (no lines)'}"
    )


handoff_register(
    Handoff(
        name="deal_won_to_job",
        label="Won deal to job",
        listens_to=frozenset({"deal.stage_changed"}),
        queue="hubspot",
        record_type="deal",
        key=key,
        perform=perform,
        preview=preview,
    )
)
