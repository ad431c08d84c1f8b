"""Something changed in a system (a company, a contact, a deal, a job, an invoice): bring every
record it belongs to in line with the ownership rules, through the ownership engine.

Level-triggered: the event only says which record to look at; the engine reads each
system's values when the run runs, so a late, repeated or reordered event cannot move a
value backwards. A customer seen for the first time is matched across the systems first.
"""

from django.conf import settings

from connectors.base import BusinessEvent, CustomerDetails
from connectors.errors import ConnectorError
from connectors.registry import crm, in_organisation, operations, systems
from handoffs.models import HandoffRun
from handoffs.registry import Handoff, Outcome, handoff_register
from integration_hub import labels
from ownership.engine import records_converge
from ownership.matching import customers_first_seen
from ownership.models import AgreedValue, Record
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


def _nothing_new(run: HandoffRun) -> Outcome | None:
    """A change that needs no reading, said, or None.

    - The finance system telling of an invoice the hub had linked before the event came:
      only the hub links an invoice, when it makes it (job_done_to_invoice.invoices_record),
      and it brings the invoice in line then, or asks for a run of its own that does. Every
      later change to it comes as its own event. (Customers and jobs are read: the hub links
      some without bringing them in line, as a won deal's customer is matched.)
    - A job's new status that every system already agreed on: the run that wrote it (an
      invoice's status moves its job's) brought the job in line already.
    """
    kind, system = run.payload["type"], run.record_system
    linked = Record.objects.filter(
        links__system=system,
        links__external_id=run.record_ref,
        links__record_type=kind.partition(".")[0],
    )
    if kind == "invoice.created" and system != operations().system and linked.exists():
        said = labels.record_phrase(system, run.record_type, run.record_ref)
        return Outcome(
            f"{labels.sentence(said)} was made and linked before {labels.SYSTEMS[system]} "
            "told of it: nothing new to bring in line.",
            skipped=True,
        )
    status = run.payload.get("to")
    if kind != "job.status_changed" or not status or not linked.exists():
        return None
    agreed = AgreedValue.objects.filter(record__in=linked, field="status", value=status)
    if agreed.count() < linked.count():
        return None
    shown = labels.label("job_status", status)
    return Outcome(
        f"Job {run.record_ref} is now '{shown}', which every system already has: "
        "nothing to bring in line.",
        skipped=True,
    )


def _records(run: HandoffRun, asked: dict) -> tuple[list[Record], list[str]]:
    """The records the changed object belongs to, and the customers among them to match
    first (seen for the first time, or not linked everywhere yet). `asked`: the companies
    of each person the batch asked about, so each is asked once."""
    noun, system, object_id = (
        run.payload["type"].partition(".")[0],
        run.record_system,
        run.record_ref,
    )
    if noun == "record":
        return list(Record.objects.filter(pk=object_id)), []
    ids = [object_id]
    if noun == "contact":  # a person: the customers (companies) they belong to
        if (system, object_id) not in asked:
            asked[(system, object_id)] = crm().customers_of_contact(object_id)
        noun, ids = "customer", asked[(system, object_id)]
    records: list[Record] = []
    # A merge: the records linked to the merged-away ids too (the engine follows them).
    merged = [str(i) for i in run.payload.get("merged") or []] if noun == "customer" else []
    records += Record.objects.filter(
        links__system=system, links__external_id__in=merged, type=Record.Type.CUSTOMER
    ).distinct()
    records += records_moved_from(system=system, external_ids=merged)
    types = _record_types(noun, system, run.payload.get("property"))
    if run.payload["type"] in JOB_PROGRESS:
        types = ("job",)
    to_match = []
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
            to_match.append(each)
        else:
            records += found
    return records, to_match


def _sightings(runs: list[HandoffRun], found: dict, fresh: dict) -> dict[tuple, object]:
    """Match the customers the batch's changes name that are new or not linked everywhere:
    each system read once for them and each other system asked once for all their
    candidates, in the organisation the change came from (a Xero tenant), if it says one.
    Their values read are put in `fresh` (by record, then system): the engine does not read
    them again. Answers {(system, organisation, id): Sighting, or the failure to retry}."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        if isinstance(found[run.pk], tuple):
            group = wanted.setdefault((run.record_system, run.payload.get("tenant") or ""), [])
            group += [i for i in found[run.pk][1] if i not in group]
    sightings: dict[tuple, object] = {}
    for (system, home), ids in wanted.items():
        groups = [ids]
        while groups:
            some = groups.pop()
            try:
                sightings |= _sighted(system, home, some, fresh)
            except Exception as error:  # all together failed: each alone says its own
                if len(some) == 1:
                    sightings[(system, home, some[0])] = error
                else:
                    groups += [[each] for each in some]
    return sightings


def _sighted(system: str, home: str, ids: list[str], fresh: dict) -> dict[tuple, object]:
    """Match these customers of one system and organisation together (see _sightings)."""
    seen = _customers_seen(in_organisation(systems()[system], home), ids)
    matched = customers_first_seen(many=[d for d, _ in seen.values()], within=home)
    sightings = {}
    for (external_id, (_, values)), sighting in zip(seen.items(), matched, strict=True):
        sightings[(system, home, external_id)] = sighting
        if values is not None and _linked_as(sighting.record, system, external_id):
            fresh.setdefault(sighting.record.pk, {})[system] = values
    return sightings


def _customers_seen(store, ids: list[str]) -> dict[str, tuple[CustomerDetails, dict | None]]:
    """Customers' details as their system has them, and, for a system of one account, the
    values they came from (the engine's own read of them), read together."""
    if hasattr(store, "within"):  # customers in one of several organisations (Xero)
        return {i: (store.customer_read(i), None) for i in ids}
    values = store.values_read("customer", ids)
    return {
        i: (CustomerDetails.from_values(store.system, i, values[i]), values[i])
        if i in values
        else (store.customer_read(i), None)  # merged into another, or gone: its read says
        for i in ids
    }


def _matched(run: HandoffRun, found: tuple, sightings: dict):
    """The run's records with its customers matched; what matching said; the systems it
    could not ask (the run waits for them, then runs again). A failure to match, raised."""
    records, to_match = found
    records = list(records)
    said: list[str] = []
    missed: list[Exception] = []
    for each in to_match:
        sighting = sightings[(run.record_system, run.payload.get("tenant") or "", each)]
        if isinstance(sighting, Exception):
            raise sighting
        records.append(sighting.record)
        said += sighting.said
        missed += sighting.missed
    return records, said, missed


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
    found: dict[int, tuple | Outcome | Exception] = {}
    fresh: dict[int, dict[str, dict]] = {}
    asked = _companies_of_people(runs)
    for run in runs:
        try:
            found[run.pk] = _nothing_new(run) or _records(run, asked)
        except Exception as error:  # this change's own problem (or a bug) stays its own
            found[run.pk] = error
    sightings = _sightings(runs, found, fresh)
    for run in runs:
        if isinstance(found[run.pk], tuple):
            try:
                found[run.pk] = _matched(run, found[run.pk], sightings)
            except Exception as error:
                found[run.pk] = error
    records = {
        record.pk: record
        for each in found.values()
        if isinstance(each, tuple)
        for record in each[0]
    }
    converged = records_converge(records=list(records.values()), fresh=fresh)
    outcomes = dict(zip(records, converged, strict=True))
    return [_outcome(run, found[run.pk], outcomes) for run in runs]


def _companies_of_people(runs: list[HandoffRun]) -> dict[tuple[str, str], list[str]]:
    """The companies of the people the batch's changes name, asked in one call where the
    CRM can; a person it leaves out (or a failed call) is asked about on its own."""
    sales = crm()
    people = [
        run.record_ref
        for run in runs
        if run.payload["type"].startswith("contact.") and run.record_system == sales.system
    ]
    if len(people) < 2 or not hasattr(sales, "customers_of_contacts"):
        return {}
    try:
        found = sales.customers_of_contacts(people)
    except ConnectorError:
        return {}
    return {(sales.system, person): companies for person, companies in found.items()}


def _outcome(run: HandoffRun, found, outcomes: dict) -> Outcome | Exception:
    if not isinstance(found, tuple):  # a failure, or a change with nothing new
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
