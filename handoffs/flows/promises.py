"""A promise (a won deal or an accepted quote) becomes one job, for the right customer."""

from dataclasses import asdict

from django.db import transaction

from connectors.base import JobPromise, OperationsConnector
from connectors.errors import Disagreement
from connectors.operations.client import JobRegister
from handoffs.models import HandoffRun
from handoffs.registry import Outcome
from ownership.models import Record
from ownership.selectors import link_external_id
from ownership.services import link_add, record_for_link


def _new_customer(run: HandoffRun, operations: OperationsConnector, details) -> str:
    """Create the customer, unless a likely duplicate exists and no person has said it is new."""
    candidates = operations.customer_candidates(details=details)
    if candidates and not run.payload.get("new_customer_confirmed"):
        named = "; ".join(f"{c['name']} ({c['why']})" for c in candidates)
        source = {"hubspot": "HubSpot", "xero": "Xero"}.get(details.system, details.system)
        raise Disagreement(
            f"The register may already have '{details.name}' from {source}: {named}. The hub "
            "made no second customer and no job yet.",
            title="Possible duplicate customer",
            kind="possible_duplicate",
            system="operations",
            fix=f"Choose: link the {source} record to the existing customer (optionally taking "
            f"{source}'s details), or confirm it is a different customer. The job is then "
            "created.",
            details={"field": "customer", "candidates": candidates, "new": asdict(details)},
            root=f"{details.system}:company:{details.external_id}",
        )
    return operations.customer_create(details=details)


def promise_to_job(run: HandoffRun, promise: JobPromise) -> Outcome:
    """Find or create the customer (never a likely duplicate), then the job, once."""
    operations: OperationsConnector = JobRegister()
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
