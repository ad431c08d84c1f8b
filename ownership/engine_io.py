"""The ownership engine's reads and writes of each system.

`values_read` reads every linked system's current values, one call per system, record
type and organisation (and what a connector reads for several types at once);
`moved_followed` follows the customers a system merged away; `values_write` writes the
plans' changes, one batch per system and organisation, each record's answer its own.
"""

import logging

from connectors.base import Notice, Value
from connectors.errors import ConnectorError, NotFound
from connectors.registry import in_organisation, systems
from ownership.catalogue import field_of
from ownership.decisions import Plan
from ownership.models import Record
from ownership.moves import customers_follow
from review_queue.services import review_item_open

logger = logging.getLogger(__name__)


def values_read(
    records: list[Record], links: dict[int, dict[str, str]], homes: dict, fresh: dict
) -> dict[int, dict]:
    """Each linked system's current values for the records, one read per system, type and
    organisation (values the caller just had from a system are not read again).

    A system that no longer has a record is left out of that record's values.
    """
    known = systems()
    values: dict[int, dict[str, dict[str, Value]]] = {
        r.pk: dict(fresh.get(r.pk, {})) for r in records
    }
    wanted: dict[tuple[str, str, str], list[Record]] = {}
    for record in records:
        for system, external_id in links[record.pk].items():
            if system in known and system not in values[record.pk]:
                home = homes.get((system, external_id), "")
                wanted.setdefault((system, record.type, home), []).append(record)
    ahead: dict[tuple[str, str], dict[str, list[str]]] = {}
    for (system, record_type, home), batch in wanted.items():
        ahead.setdefault((system, home), {})[record_type] = [links[r.pk][system] for r in batch]
    for (system, home), each_type in ahead.items():  # what one call reads for several types
        read_ahead = getattr(in_organisation(known[system], home), "values_read_ahead", None)
        if read_ahead is not None and len(each_type) > 1:
            read_ahead(each_type)
    for (system, record_type, home), batch in wanted.items():
        ids = [links[r.pk][system] for r in batch]
        try:
            found = in_organisation(known[system], home).values_read(record_type, ids)
        except NotFound:
            found = {}
        for record, external_id in zip(batch, ids, strict=True):
            if external_id in found:
                values[record.pk][system] = found[external_id]
            else:
                logger.warning("%s has no %s %s any more", system, record_type, external_id)
    return values


def moved_followed(
    records: list[Record], links: dict[int, dict[str, str]], homes: dict, values: dict[int, dict]
) -> tuple[dict[int, list[tuple[str, str, str]]], set[tuple[int, str]]]:
    """Follow the customers a system no longer has under their id (ownership/moves.py) and
    read the survivors' values, in each customer's own organisation; return the links moved
    by record, and the (record, system) a moved customer's item now speaks for (no longer
    merely missing)."""
    known = systems()
    wanted: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        if record.type == Record.Type.CUSTOMER:
            for system, external_id in links[record.pk].items():
                if system in known and system not in values[record.pk]:
                    home = homes.get((system, external_id), "")
                    wanted.setdefault((system, home), []).append(record)
    followed: dict[int, list[tuple[str, str, str]]] = {}
    spoken: set[tuple[int, str]] = set()
    for (system, home), batch in wanted.items():
        store = in_organisation(known[system], home)
        moved = store.customers_moved([links[r.pk][system] for r in batch])
        moves = customers_follow(system=system, moved=moved)
        again = []
        for record in batch:
            old = links[record.pk][system]
            if old in moved:
                spoken.add((record.pk, system))
            if old in moves:
                links[record.pk][system] = moves[old]
                followed.setdefault(record.pk, []).append((system, old, moves[old]))
                again.append(record)
        if again:
            found = store.values_read("customer", [links[r.pk][system] for r in again])
            for record in again:
                if links[record.pk][system] in found:
                    values[record.pk][system] = found[links[record.pk][system]]
    return followed, spoken


def values_write(
    plans: list[Plan], links: dict[int, dict[str, str]], homes: dict, dones: dict
) -> dict[int, list[Exception]]:
    """Write the records' changes, one batch per system, record type and organisation (a
    system that fails one record leaves the others written); return the failures by
    record id, which the run retries."""
    known = systems()
    failures: dict[int, list[Exception]] = {}
    batches: dict[tuple[str, str], dict[str, dict[str, tuple[Plan, dict]]]] = {}
    for plan in plans:
        record = plan.record
        for system, changes in plan.writes.items():
            store, external_id = known[system], links[record.pk][system]
            unforced = {k: v for k, v in changes.items() if (system, k) not in plan.forced}
            try:
                held = store.write_held(record.type, external_id, unforced) if unforced else None
            except ConnectorError as error:
                failures.setdefault(record.pk, []).append(error)
                continue
            if held is not None:
                notice_open(held, record, system, external_id)
                labels = [field_of(record.type, k).label for k in unforced]
                dones[record.pk].held += [f"the {', '.join(labels)} in {store.label}"]
                changes = {k: v for k, v in changes.items() if k not in unforced}
            if changes:
                home = homes.get((system, external_id), "")
                by_type = batches.setdefault((system, home), {})
                by_type.setdefault(record.type, {})[external_id] = (plan, changes)
    for (system, home), by_type in batches.items():
        answered = writes_answered(
            in_organisation(known[system], home),
            {kind: {i: ch for i, (_, ch) in batch.items()} for kind, batch in by_type.items()},
        )
        every = [pair for batch in by_type.values() for pair in batch.items()]
        for external_id, (plan, changes) in every:
            answer = answered[plan.record.type][external_id]
            if isinstance(answer, ConnectorError):
                failures.setdefault(plan.record.pk, []).append(answer)
                continue
            for notice in answer:
                if (system, notice.details.get("field")) not in plan.reverted:
                    notice_open(notice, plan.record, system, external_id)
            plan.values[system] |= changes
            plan.wrote(system, list(changes), dones[plan.record.pk])
    return failures


def writes_answered(store, changes: dict[str, dict[str, dict]]) -> dict[str, dict[str, object]]:
    """Each record's answer to its write ({record type: {id: notices or the failure}}): the
    record types a connector writes together (a HubSpot deal holds three) in one call, the
    others a call a type."""
    together = getattr(store, "values_write_together", None)
    calls = [changes] if together and len(changes) > 1 else [{k: v} for k, v in changes.items()]
    answered: dict[str, dict[str, object]] = {}
    for some in calls:
        try:
            if len(some) > 1:
                answered |= together(some)
            else:
                ((kind, each),) = some.items()
                answered[kind] = store.values_write(kind, each)
        except ConnectorError as error:
            answered |= {kind: dict.fromkeys(each, error) for kind, each in some.items()}
    return answered


def notice_open(notice: Notice, record: Record, system: str, external_id: str) -> None:
    """Open the item a system's answer to a write calls for, on the record as it names it."""
    review_item_open(
        root_key=notice.root,
        kind=notice.kind,
        system=system,
        title=notice.title,
        reason=notice.reason,
        action=notice.fix,
        record_type=record.type,
        record_ref=external_id,
        record_label=record.label,
        details={**notice.details, "record": record.pk},
    )
