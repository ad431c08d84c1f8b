"""Something changed in a system (a company, a contact, a deal, a job, an invoice): bring every
record it belongs to in line with the ownership rules, through the ownership engine.

Level-triggered: the event only says which record to look at; the engine reads each
system's values when the run runs, so a late, repeated or reordered event cannot move a
value backwards. A customer seen for the first time is matched across the systems first.
"""

from django.conf import settings

from connectors.base import BusinessEvent, CustomerDetails
from connectors.registry import crm, in_organisation, systems
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from integration_hub import labels
from ownership.engine import records_converge
from ownership.matching import customer_first_seen
from ownership.models import Record
from ownership.selectors import records_moved_from

# What each changed object is, in the hub's records: event noun → record types to look at.
RECORD_TYPES = {
    "customer": ("customer",),
    "deal": ("deal", "job", "invoice"),
    "job": ("job", "deal"),
    "invoice": ("invoice",),
}
# A job's progress changes the job's own fields only, never what its deal promised: the
# deal (its amount and lines, read from the CRM) is left unread.
JOB_PROGRESS = frozenset(
    {"job.status_changed", "job.completed", "job.rescheduled", "job.site_changed"}
)
CHANGES = frozenset(
    f"{noun}.{verb}"
    for noun in (*RECORD_TYPES, "contact")
    for verb in ("created", "changed", "updated")
) | frozenset(
    {
        "job.status_changed",
        "job.completed",
        "job.rescheduled",
        "job.site_changed",
        "job.promise_changed",
        "job.lines_recoded",
        "job.imported",
        "record.choice",
        "customer.merged",
        "contact.merged",
    }
)


def key(happened: BusinessEvent) -> str:
    """One run per record and change, whichever path (webhook or poll) told of it."""
    change = happened.data.get("event") or happened.data.get("event_id")
    return f"{happened.system}:{happened.type}:{happened.object_id}:{change}"


def applies(happened: BusinessEvent) -> bool:
    """Not for the hub's own writes coming back, nor a deal's stage (deal_won_to_job)."""
    return not happened.data.get("echo") and happened.data.get("property") != "dealstage"


def _records(run: HandoffRun, fresh: dict) -> tuple[list[Record], list[str], list[Exception]]:
    """The records the changed object belongs to, matching a customer seen for the first time;
    what matching said; the systems it could not ask (the run waits for them, then again).
    A customer's values read for matching are put in `fresh` (by record, then system), so the
    engine does not read them again."""
    noun, system, object_id = (
        run.payload["type"].partition(".")[0],
        run.record_system,
        run.record_ref,
    )
    if noun == "record":
        return list(Record.objects.filter(pk=object_id)), [], []
    ids = [object_id]
    if noun == "contact":  # a person: the customers (companies) they belong to
        noun, ids = "customer", crm().customers_of_contact(object_id)
    records: list[Record] = []
    # A merge: the records linked to the merged-away ids too (the engine follows them).
    merged = [str(i) for i in run.payload.get("merged") or []] if noun == "customer" else []
    records += Record.objects.filter(
        links__system=system, links__external_id__in=merged, type=Record.Type.CUSTOMER
    ).distinct()
    records += records_moved_from(system=system, external_ids=merged)
    said: list[str] = []
    missed: list[Exception] = []
    types = _record_types(noun, system, run.payload.get("property"))
    if run.payload["type"] in JOB_PROGRESS:
        types = ("job",)
    for each in ids:
        found = list(
            Record.objects.filter(
                links__system=system,
                links__external_id=each,
                links__record_type__in=types,
            ).distinct()
        )
        if noun == "customer" and not found:  # its link may have followed a merge
            found = records_moved_from(system=system, external_ids=[each])
        if noun == "customer" and system in systems() and (not found or _unlinked(found[0])):
            # Seen for the first time, or not yet linked everywhere: match it across systems.
            # Read in the organisation the change came from (a Xero tenant), if it says one.
            home = run.payload.get("tenant") or ""
            found_in = in_organisation(systems()[system], home)
            details, values = _customer_seen(found_in, each)
            seen = customer_first_seen(details=details, within=home)
            found, said, missed = [seen.record], said + seen.said, missed + seen.missed
            if values is not None and _linked_as(seen.record, system, each):
                fresh.setdefault(seen.record.pk, {})[system] = values
        records += found
    return records, said, missed


def _customer_seen(store, external_id: str) -> tuple[CustomerDetails, dict | None]:
    """A customer's details as its system has them, and, for a system of one account, the
    values they came from (the engine's own read of them)."""
    if hasattr(store, "within"):  # a customer in one of several organisations (Xero)
        return store.customer_read(external_id), None
    values = store.values_read("customer", [external_id]).get(external_id)
    if values is None:  # merged into another, or gone: the system's own read says which
        return store.customer_read(external_id), None
    return CustomerDetails.from_values(store.system, external_id, values), values


def _linked_as(record: Record, system: str, external_id: str) -> bool:
    """Whether the record's one link in this system is this id (the one the engine reads)."""
    ids = list(record.links.filter(system=system).values_list("external_id", flat=True))
    return ids == [external_id]


def _record_types(noun: str, system: str, prop: str | None) -> tuple[str, ...]:
    """The record types a change may touch: for a deal's property, only those it holds
    (a deal holds the deal's, its job's and its invoice's fields)."""
    types = RECORD_TYPES[noun]
    if noun != "deal" or not prop or system not in systems():
        return types
    holding = {kind for (kind, _), name in systems()[system].fields.items() if name == prop}
    return tuple(kind for kind in types if kind in holding)


def _unlinked(record: Record) -> bool:
    """Whether the customer has no link yet in some system that holds customers."""
    linked = set(record.links.values_list("system", flat=True))
    holders = {s for s, c in systems().items() if hasattr(c, "customer_candidates")}
    return bool(holders - linked)


def batch(runs: list[HandoffRun]) -> list[Outcome | Exception]:
    """Converge the records of many changes at once: each system is read once for them all."""
    found: dict[int, tuple | Exception] = {}
    fresh: dict[int, dict[str, dict]] = {}
    for run in runs:
        try:
            found[run.pk] = _records(run, fresh)
        except Exception as error:  # this change's own problem (or a bug) stays its own
            found[run.pk] = error
    records = {
        record.pk: record
        for each in found.values()
        if not isinstance(each, Exception)
        for record in each[0]
    }
    converged = records_converge(records=list(records.values()), fresh=fresh)
    outcomes = dict(zip(records, converged, strict=True))
    return [_outcome(run, found[run.pk], outcomes) for run in runs]


def _outcome(run: HandoffRun, found, outcomes: dict) -> Outcome | Exception:
    if isinstance(found, Exception):
        return found
    records, said, missed = found
    if not records:
        said = labels.record_phrase(run.record_system, run.record_type, run.record_ref)
        return Outcome(
            f"{labels.sentence(said)} is not linked to any other system: nothing to keep in line.",
            skipped=True,
        )
    run.record_label = records[0].label
    HandoffRun.objects.filter(pk=run.pk).update(record_label=run.record_label)
    done = [outcomes[record.pk] for record in records]
    failed = next((d for d in [*done, *missed] if isinstance(d, Exception)), None)
    if failed is not None:  # converged what it could; waits for the rest, then runs again
        return failed
    summary = " ".join([*(f"{s[0].upper()}{s[1:]}." for s in said), *(d.summary() for d in done)])
    return Outcome(summary, skipped=not said and not any(d.changed for d in done))


def perform(run: HandoffRun) -> Outcome:
    """Converge the records one change belongs to (a batch of one)."""
    (outcome,) = batch([run])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def happened_for(*, record: Record, change: str) -> BusinessEvent:
    """The event that asks for a record's run directly (a person's choice on an item)."""
    return BusinessEvent("record.choice", "hub", str(record.pk), {"event": change})


def records_look_again(*, records: list[Record], change: str) -> None:
    """Ask for a run of the engine on these records (on commit): a new link, a person's
    choice. It is how the systems' first agreement on each field is known."""
    from handoffs.registry import handoff_get
    from handoffs.runs import handoff_run_start

    for record in records:
        handoff_run_start(
            handoff=handoff_get("shared_fields"),
            happened=happened_for(record=record, change=change),
        )


handoff_register(
    Handoff(
        name="shared_fields",
        label=labels.HANDOFFS["shared_fields"],
        listens_to=CHANGES,
        queue="default",
        record_type="record",
        key=key,
        perform=perform,
        applies=applies,
        batch=batch,
        batch_size=100,
        gather_seconds=settings.SHARED_FIELDS_GATHER_SECONDS,
    )
)
