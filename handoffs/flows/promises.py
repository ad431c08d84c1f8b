"""A promise (a won deal or an accepted quote) becomes one job, for the right customer."""

from django.db import transaction

from connectors.base import JobPromise, JobRef
from connectors.registry import operations
from handoffs.models import HandoffRun
from handoffs.registry import Outcome
from ownership.matching import customer_first_seen, duplicate_waiting
from ownership.models import Record
from ownership.selectors import link_external_id
from ownership.services import (
    link_add,
    link_ensure,
    record_for_link,
    values_agreed,
)


def _customer_id(promise: JobPromise, record: Record) -> str:
    """The customer's id in the operations system: linked, or made (never a likely twin)."""
    register = operations()
    linked = link_external_id(record=record, system=register.system)
    if linked:
        return linked
    waiting = duplicate_waiting(details=promise.customer, target=register.system, what="job")
    if waiting is not None:
        raise waiting
    customer_id = register.customer_create(details=promise.customer)
    values_agreed(record=record, values=promise.customer.shared_values())
    link_add(
        record=record,
        system=register.system,
        external_id=customer_id,
        reason=f"made in {register.label} for {promise.title}",
    )
    return customer_id


def promise_to_job(run: HandoffRun, promise: JobPromise) -> Outcome:
    """Find or create the customer (never a likely duplicate), then the job, once."""
    register = operations()
    # A system that cannot be asked now (Xero not connected) is matched on a later change.
    # A quote accepted in a Xero organisation: its customer is that organisation's contact.
    home = run.payload.get("tenant") or ""
    customer = customer_first_seen(details=promise.customer, within=home).record
    # The customer, the job and the links land together, in one commit: no event finds the
    # customer unlinked or the job without its deal (the register is the hub's own database).
    with transaction.atomic():
        customer_id = _customer_id(promise, customer)
        job = register.job_create(promise=promise, customer_id=customer_id)
        deal = _records_link(promise, job, home)
    verb = "Created" if job.created else "Found the existing"
    return Outcome(
        f"{verb} job {job.number} for {promise.customer.name}.",
        result={"job": job.number, "customer_record": customer.pk, "deal_record": deal.pk},
    )


def _records_link(promise: JobPromise, job: JobRef, home: str) -> Record:
    """Link the deal (or quote) and its job both ways; return the deal's record."""
    register = operations()
    why = f"job {job.number} made for it"
    deal = record_for_link(
        type=Record.Type.DEAL,
        system=promise.origin_system,
        external_id=promise.origin_ref,
        label=promise.title,
        organisation=home,
    )
    link_ensure(record=deal, system=register.system, external_id=job.number, reason=why)
    made = record_for_link(
        type=Record.Type.JOB,
        system=register.system,
        external_id=job.number,
        label=f"{job.number} {promise.title}",
    )
    link_ensure(
        record=made, system=promise.origin_system, external_id=promise.origin_ref, reason=why
    )
    if job.created:  # made from the deal's promise: they agree on it as of now
        values_agreed(record=deal, values={"amount": promise.amount, "line_items": promise.lines})
    return deal
