"""The first match: every customer each system already has, matched in one pass.

customer_first_seen (ownership/matching.py) matches one customer as an event brings it, by
asking the other systems. On the first day there are thousands, so the whole lists are
read once and held in a CustomerIndex per system. Each pair of systems is then matched
in turn (the CRM's customers against the register's, against the finance system's; then
the register's against the finance system's), by the same `likeness`:

- one certain match that nobody else holds: linked at once, with the reason on the link;
- anything less certain, or a match another customer holds already: one Proposal that
  staff decide in bulk (onboarding/proposals.py), never a review item each;
- nothing alike: left alone (its record says it is in one system only).

Records, links and proposals are written 500 customers at a time, so a run that stops
keeps what it did; the next one starts from the links and proposals there are and never
makes a second of either.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import combinations

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from connectors.base import CustomerDetails
from ownership.customer_index import CustomerIndex
from ownership.matching import likeness
from ownership.models import Distinct, Link, Proposal, Record
from ownership.services import link_home

CHUNK = 500


@dataclass
class Tally:
    """What the first match has done so far."""

    matched: int = 0
    proposed: int = 0
    alone: int = 0
    pairs_done: list[str] = field(default_factory=list)


class _Known:
    """The customer records and links there are, kept in step with what this run adds."""

    def __init__(self):
        self.record_of: dict[tuple[str, str], Record] = {}
        self.systems_of: dict[int, set[str]] = {}
        self.homes: dict[str, str] = {}  # system → the organisation its new links record
        records: dict[int, Record] = {}
        for link in Link.objects.filter(record_type=Record.Type.CUSTOMER).select_related("record"):
            record = records.setdefault(link.record_id, link.record)
            self.record_of[(link.system, link.external_id)] = record
            self.systems_of.setdefault(id(record), set()).add(link.system)
        self.refused = set(Distinct.objects.values_list("record_id", "system", "external_id"))
        self.proposed = set(Proposal.objects.values_list("system", "external_id", "target"))
        # (record, system): a proposal asks already whether the record is in that system.
        self.asked = {
            (id(records[pk]), target)
            for pk, target in Proposal.objects.filter(
                state=Proposal.State.OPEN, record__isnull=False
            ).values_list("record_id", "target")
            if pk in records
        }
        self.new_records: list[Record] = []
        self.new_links: list[Link] = []

    def record(self, name: str) -> Record:
        record = Record(type=Record.Type.CUSTOMER, label=name)
        self.new_records.append(record)
        self.systems_of[id(record)] = set()
        return record

    def link(self, record: Record, system: str, external_id: str, why: str) -> None:
        if (system, external_id) in self.record_of:
            return
        self.record_of[(system, external_id)] = record
        self.systems_of[id(record)].add(system)
        if system not in self.homes:
            self.homes[system] = link_home(system)
        self.new_links.append(
            Link(
                record=record,
                record_type=record.type,
                system=system,
                external_id=external_id,
                organisation=self.homes[system],
                reason=why,
            )
        )

    def has(self, record: Record | None, system: str) -> bool:
        return record is not None and system in self.systems_of[id(record)]

    def is_refused(self, record: Record | None, system: str, external_id: str) -> bool:
        return record is not None and (record.pk, system, external_id) in self.refused

    @transaction.atomic
    def save(self, proposals: list[Proposal]) -> None:
        Record.objects.bulk_create(self.new_records)
        bulk_create_with_history(self.new_links, Link, batch_size=CHUNK)
        for proposal in proposals:
            proposal.record = self.record_of.get((proposal.system, proposal.external_id))
        Proposal.objects.bulk_create(proposals, ignore_conflicts=True)
        self.new_records, self.new_links = [], []


def customers_match(
    lists: dict[str, list[CustomerDetails]],
    *,
    pairs_done: list[str] = (),
    progress: Callable[[Tally, int], None] = lambda tally, count: None,
) -> Tally:
    """Match every customer of these systems' lists (system → its customers; the order is
    the order pairs are matched in); `progress` hears after each chunk."""
    known, tally = _Known(), Tally(pairs_done=list(pairs_done))
    indexes = {system: CustomerIndex(customers) for system, customers in lists.items()}
    for a, b in combinations(lists, 2):
        pair = f"{a}>{b}"
        if pair in tally.pairs_done:
            continue
        for start in range(0, len(lists[a]), CHUNK):
            chunk = lists[a][start : start + CHUNK]
            proposals = [p for d in chunk if (p := _matched(known, tally, d, b, indexes[b]))]
            known.save(proposals)
            tally.proposed += len(proposals)
            progress(tally, len(chunk))
        tally.pairs_done.append(pair)
    for system, customers in lists.items():
        for details in customers:
            if (system, details.external_id) not in known.record_of:
                known.link(known.record(details.name), system, details.external_id, "first seen")
            if len(known.systems_of[id(known.record_of[(system, details.external_id)])]) == 1:
                tally.alone += 1
        known.save([])
    return tally


def _matched(
    known: _Known, tally: Tally, details: CustomerDetails, target: str, index: CustomerIndex
) -> Proposal | None:
    """Link this customer to its one certain match in `target`, or return the proposal."""
    mine = known.record_of.get((details.system, details.external_id))
    if (
        known.has(mine, target)
        or (details.system, details.external_id, target) in known.proposed
        or (id(mine), target) in known.asked
    ):
        return None
    found = [
        (candidate, like)
        for candidate in index.candidates(details)
        if not known.is_refused(mine, target, candidate.external_id)
        and (like := likeness(details, candidate))
    ]
    certain = [(c, like) for c, like in found if like.certain]
    if len(certain) == 1:
        candidate, like = certain[0]
        theirs = known.record_of.get((target, candidate.external_id))
        taken = theirs is not None and (
            (mine is not None and theirs is not mine) or known.has(theirs, details.system)
        )
        if not taken:
            record = mine or theirs or known.record(details.name)
            known.link(record, details.system, details.external_id, "first match")
            known.link(record, target, candidate.external_id, like.why)
            tally.matched += 1
            return None
    if not found:
        return None
    found.sort(key=lambda pair: not pair[1].certain)
    record = mine or known.record(details.name)
    known.link(record, details.system, details.external_id, "first seen")
    known.asked.add((id(record), target))
    return Proposal(
        system=details.system,
        external_id=details.external_id,
        name=details.name[:255],
        details=asdict(details),
        target=target,
        candidates=[{"id": c.external_id, "name": c.name, "why": like.why} for c, like in found],
        why=found[0][1].why,
    )
