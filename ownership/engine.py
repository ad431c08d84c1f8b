"""The ownership engine: one place that decides, for every shared field of a record, what to do.

It reads each linked system's current values (never an event's snapshot), then for each
rule of the record's type and each system that carries the field:

- equal: nothing to do;
- carry: the carrier still has the value all systems last agreed on (or none), so the
  owner moved on and the carrier follows;
- restore / flag / ignore: the carrier was changed where it is not owned; the rule says
  whether to write the owner's value back, open one review item (per record and field)
  with both values and the choices, or leave it.

A non-owner's value enters the owner only when a person chose it on a review item
(`FieldChoice`). Writes go to each carrier on its own: one that fails is retried on the
next run, whatever the others already show. A write a system holds back (work under way)
and what a write makes someone need to know become review items too.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.base import Notice, Value
from connectors.errors import ConnectorError, NotFound, Waiting
from connectors.registry import in_organisation, systems, systems_shared
from ownership.catalogue import field_of
from ownership.disagreements import disagreement_open
from ownership.models import AgreedValue, FieldChoice, FieldRule, Link, Record
from ownership.moves import customers_follow
from ownership.values import empty, loaded, same, shown_as, stored
from review_queue.models import ReviewItem
from review_queue.services import review_item_open, review_item_settle

logger = logging.getLogger(__name__)


class RecordBusy(Waiting):
    """Another run is converging the record: this one leaves it to that one."""


@dataclass
class Convergence:
    """What one run of the engine found and did for a record."""

    record: Record
    wrote: dict[str, list[str]] = field(default_factory=dict)
    flagged: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    # What a reconciliation counts: the copies compared with their owner's value, the
    # writes that carried an owner's new value or restored it over an edit where the field
    # is not owned (system, field), and the linked systems that no longer have the record.
    compared: int = 0
    carried: list[tuple[str, str]] = field(default_factory=list)
    restored: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # Links followed to the record a system merged this one into: (system, old id, new id).
    followed: list[tuple[str, str, str]] = field(default_factory=list)
    # Each system's values as read (for what a caller checks besides the rules).
    values: dict[str, dict[str, Value]] = field(default_factory=dict)
    # The systems written, and the records those writes moved there, brought in line after.
    written: list[str] = field(default_factory=list)
    followers: list["Convergence"] = field(default_factory=list)

    def summary(self) -> str:
        """One line a person reads in the run list."""

        def labels(names: list[str]) -> str:
            return ", ".join(field_of(self.record.type, name).label for name in names)

        said = [
            f"{systems()[system].label} merged it into {new}, so the hub follows it there"
            for system, _, new in self.followed
        ]
        said += [f"{system} now has the {labels(names)}" for system, names in self.wrote.items()]
        if self.flagged:
            said.append(f"the {labels(self.flagged)} went to review (the systems disagree)")
        if self.held:
            said.append(f"held back {', '.join(self.held)} for a person to approve")
        if self.settled:
            said.append(f"the {labels(self.settled)} agree again, so its item was closed")
        line = f"{self.record}: " + ("; ".join(said) + "." if said else "every copy agrees.")
        return " ".join([line, *(f.summary() for f in self.followers if f.changed)])

    @property
    def changed(self) -> bool:
        return bool(
            self.wrote
            or self.flagged
            or self.held
            or self.settled
            or self.followed
            or any(f.changed for f in self.followers)
        )


def _read(
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


def _follow(
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


def _decide(kind: str, owner: Value, copy: Value, agreed, rule: FieldRule) -> str:
    """Say what to do with one carrier's copy: equal, carry, restore, flag or ignore."""
    if same(kind, owner, copy):
        return "equal"
    if agreed is not None and same(kind, copy, loaded(agreed)):
        return "carry"  # the copy was not edited since the systems agreed: the owner moved on
    if empty(copy) and not empty(owner):
        return "carry"
    if rule.on_disagreement == "restore" and empty(owner):
        return "flag"  # the hub never erases a value by itself
    return rule.on_disagreement


class _Plan:
    """The writes, flags and settlements one run makes for a record."""

    def __init__(self, record: Record, values: dict[str, dict[str, Value]]) -> None:
        self.record, self.values = record, values
        self.writes: dict[str, dict[str, Value]] = {}
        self.flags: dict[str, list[tuple[str, Value]]] = {}
        self.forced: set[tuple[str, str]] = set()
        self.verdicts: dict[tuple[str, str], str] = {}  # (system, field) -> carry / restore
        # Writes that put the owner's value back over an edit where it is not owned (by rule
        # or a person's choice): the record did not change, so they tell nobody anything.
        self.reverted: set[tuple[str, str]] = set()
        self.compared = 0

    def write(self, system: str, name: str, value: Value, *, verdict: str = "") -> None:
        """Plan a write; without a verdict it is forced (a person chose the value)."""
        self.writes.setdefault(system, {})[name] = value
        if verdict:
            self.verdicts[(system, name)] = verdict
        else:
            self.forced.add((system, name))
        if verdict == "restore":
            self.reverted.add((system, name))

    def wrote(self, system: str, names: list[str], done: "Convergence") -> None:
        """Count the writes to a system among the carried and the restored."""
        label = systems()[system].label
        done.wrote[label] = list(names)
        done.written.append(system)
        for name in names:
            verdict = self.verdicts.get((system, name))
            if verdict:
                (done.carried if verdict == "carry" else done.restored).append((system, name))


def _apply_choices(
    plan: _Plan, rules: dict[str, FieldRule], choices: list[FieldChoice]
) -> list[FieldChoice]:
    """Plan the writes people chose on review items: the chosen system's value everywhere."""
    for choice in choices:
        rule = rules.get(choice.field)
        if rule is None:
            continue
        kind = field_of(plan.record.type, choice.field).kind
        right = plan.values.get(choice.system, {}).get(choice.field, loaded(choice.value))
        for system in (rule.owner, *rule.carriers):
            if system in plan.values and not same(
                kind, plan.values[system].get(choice.field), right
            ):
                plan.write(system, choice.field, right)
                if choice.system == rule.owner:  # "keep the owner's value"
                    plan.reverted.add((system, choice.field))
    return choices


def _plan(plan: _Plan, rules: dict[str, FieldRule], agreed: dict[str, object]) -> None:
    for name, rule in rules.items():
        if rule.owner not in plan.values:
            continue  # the owner does not know the record yet: nothing to compare with
        kind = field_of(plan.record.type, name).kind
        owner = plan.values[rule.owner].get(name)
        for carrier in rule.carriers:
            if carrier not in plan.values or name in plan.writes.get(carrier, {}):
                continue
            plan.compared += 1
            verdict = _decide(kind, owner, plan.values[carrier].get(name), agreed.get(name), rule)
            if verdict in ("carry", "restore"):
                plan.write(carrier, name, owner, verdict=verdict)
            elif verdict == "flag":
                plan.flags.setdefault(name, []).append((carrier, plan.values[carrier].get(name)))


def _write(
    plans: list[_Plan], links: dict[int, dict[str, str]], homes: dict, dones: dict
) -> dict[int, list[Exception]]:
    """Write the records' changes, one batch per system, record type and organisation (a
    system that fails one record leaves the others written); return the failures by
    record id, which the run retries."""
    known = systems()
    failures: dict[int, list[Exception]] = {}
    batches: dict[tuple[str, str], dict[str, dict[str, tuple[_Plan, dict]]]] = {}
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
                _notice_open(held, record, system, external_id)
                labels = [field_of(record.type, k).label for k in unforced]
                dones[record.pk].held += [f"the {', '.join(labels)} in {store.label}"]
                changes = {k: v for k, v in changes.items() if k not in unforced}
            if changes:
                home = homes.get((system, external_id), "")
                by_type = batches.setdefault((system, home), {})
                by_type.setdefault(record.type, {})[external_id] = (plan, changes)
    for (system, home), by_type in batches.items():
        answered = _written(
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
                    _notice_open(notice, plan.record, system, external_id)
            plan.values[system] |= changes
            plan.wrote(system, list(changes), dones[plan.record.pk])
    return failures


def _written(store, changes: dict[str, dict[str, dict]]) -> dict[str, dict[str, object]]:
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


def _notice_open(notice: Notice, record: Record, system: str, external_id: str) -> None:
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


def _settle(
    plans: list[_Plan],
    rules: dict[str, dict[str, FieldRule]],
    dones: dict[int, Convergence],
    agreed: dict[int, dict[str, object]],
) -> None:
    """Keep the value of every field all systems now hold; close items the values settled.

    Only values that changed are written, and only open items are looked at: the records
    of one run cost two statements together, whatever their number."""
    settled: dict[str, tuple[_Plan, str, object]] = {}
    changed = []
    for plan in plans:
        record = plan.record
        for name, rule in rules.get(record.type, {}).items():
            kind = field_of(record.type, name).kind
            present = [s for s in (rule.owner, *rule.carriers) if s in plan.values]
            if rule.owner not in plan.values or name in plan.flags:
                continue
            owner = plan.values[rule.owner].get(name)
            if not all(same(kind, plan.values[s].get(name), owner) for s in present):
                continue
            settled[f"disagreement:{record.pk}:{name}"] = (plan, name, owner)
            known = agreed[record.pk]
            if name not in known or known[name] != stored(owner):
                changed.append(AgreedValue(record=record, field=name, value=stored(owner)))
    if changed:
        AgreedValue.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["record", "field"],
            update_fields=["value", "agreed_at"],
            batch_size=1000,
        )
    still_open = ReviewItem.objects.filter(root_key__in=settled, status=ReviewItem.Status.OPEN)
    for key in still_open.values_list("root_key", flat=True):
        plan, name, value = settled[key]
        label = field_of(plan.record.type, name).label
        now = shown_as(plan.record.type, name, value)
        if review_item_settle(root_key=key, outcome=f"Every system now has the {label} {now!r}."):
            dones[plan.record.pk].settled.append(name)


def records_converge(
    *,
    records: list[Record],
    fresh: dict[int, dict[str, dict]] | None = None,
    dry_run: bool = False,
) -> list[Convergence | Exception]:
    """Bring every shared field of these records to its owner's value, by the rules.

    Reads each system once for all the records; `fresh` gives values a system has just
    answered ({record id: {system: values}}), which need no reading. Each record's
    outcome is its own: a Convergence, or the first write failure after trying every
    system (the run retries it); flags and held writes are review items, not failures.
    A dry run reads and decides but writes nothing, anywhere: its Convergence says what a
    real run would write and flag.
    """
    if dry_run:
        return [_converged(records, {}, dry_run=True).get(r.pk) for r in records]
    with systems_shared():  # what the first pass read is there for the records it moved
        done = _claimed_converge(records, fresh or {})
        moved = _followers(done, skip={r.pk for r in records})
        if moved:
            again = _claimed_converge(list(moved), {})
            for record, leader in moved.items():
                if isinstance(again.get(record.pk), Convergence):
                    leader.followers.append(again[record.pk])
    busy = RecordBusy(
        "Another run is bringing this record in line right now; this one goes on after it.",
        system="hub",
        retry_after=1,
    )
    return [done.get(r.pk, busy) for r in records]


def _claimed_converge(records: list[Record], fresh: dict) -> dict[int, Convergence | Exception]:
    """Converge the records no other run is converging; leave the others out."""
    token = uuid.uuid4().hex
    mine = _claim(records, token)
    try:
        return _converged([r for r in records if r.pk in mine], fresh)
    finally:
        Record.objects.filter(pk__in=mine, claim=token).update(claim="", claimed_until=None)


def _followers(
    done: dict[int, Convergence | Exception], skip: set[int]
) -> dict[Record, Convergence]:
    """The records the writes just made moved in the system written (a register's job
    follows its invoice: see `moves` on a connector), each with the convergence that moved
    it. Their own events come later; bringing them in line now, with what this run
    already read, lets those events find nothing left to do."""
    known = systems()
    wanted: dict[tuple[str, str, str], Convergence] = {}
    for each in done.values():
        if not isinstance(each, Convergence):
            continue
        for system in set(each.written):
            then = getattr(known.get(system), "moves", {}).get(each.record.type)
            if then:
                for external_id in each.record.links.filter(system=system).values_list(
                    "external_id", flat=True
                ):
                    wanted[(then, system, external_id)] = each
    moved: dict[Record, Convergence] = {}
    for (then, system, external_id), leader in wanted.items():
        found = Record.objects.filter(
            type=then, links__system=system, links__external_id=external_id
        ).first()
        if found is not None and found.pk not in skip:
            moved[found] = leader
    return moved


def _claim(records: list[Record], token: str) -> set[int]:
    """Claim the records no other run is converging (its claim lapsed if its worker died)."""
    now = timezone.now()
    free = Q(claim="") | Q(claimed_until__lt=now)
    until = now + timedelta(seconds=settings.HANDOFF_LEASE_SECONDS)
    Record.objects.filter(free, pk__in=[r.pk for r in records]).update(
        claim=token, claimed_until=until
    )
    return set(Record.objects.filter(claim=token).values_list("pk", flat=True))


def _converged(
    records: list[Record], fresh: dict, *, dry_run: bool = False
) -> dict[int, Convergence | Exception]:
    links: dict[int, dict[str, str]] = {r.pk: {} for r in records}
    homes: dict[tuple[str, str], str] = {}  # (system, external id) → its organisation
    found = Link.objects.filter(record__in=records).order_by("pk")
    for record_id, system, external_id, organisation in found.values_list(
        "record_id", "system", "external_id", "organisation"
    ):
        # A customer invoiced in several organisations keeps its shared fields with the
        # contact of the first one it was linked in.
        if system not in links[record_id]:
            links[record_id][system] = external_id
            homes[(system, external_id)] = organisation
    rules: dict[str, dict[str, FieldRule]] = {}
    for rule in FieldRule.objects.filter(record_type__in={r.type for r in records}):
        if rule.carriers:
            rules.setdefault(rule.record_type, {})[rule.field] = rule
    values = _read(records, links, homes, fresh)
    followed, spoken = ({}, set()) if dry_run else _follow(records, links, homes, values)
    agreed: dict[int, dict[str, object]] = {r.pk: {} for r in records}
    for record_id, name, value in AgreedValue.objects.filter(record__in=records).values_list(
        "record_id", "field", "value"
    ):
        agreed[record_id][name] = value
    choices: dict[int, list[FieldChoice]] = {r.pk: [] for r in records}
    for choice in FieldChoice.objects.filter(record__in=records, applied_at__isnull=True):
        choices[choice.record_id].append(choice)
    dones = {r.pk: Convergence(r, values=values[r.pk]) for r in records}
    plans = []
    for record in records:
        done = dones[record.pk]
        done.followed = followed.get(record.pk, [])
        done.missing = [
            s
            for s in links[record.pk]
            if s in systems() and s not in done.values and (record.pk, s) not in spoken
        ]
        plan = _Plan(record, values[record.pk])
        if not dry_run:
            _apply_choices(plan, rules.get(record.type, {}), choices[record.pk])
        _plan(plan, rules.get(record.type, {}), agreed[record.pk])
        done.compared = plan.compared
        plans.append(plan)
    if dry_run:
        for plan in plans:
            for system, changes in plan.writes.items():
                plan.wrote(system, list(changes), dones[plan.record.pk])
            dones[plan.record.pk].flagged = list(plan.flags)
        return dict(dones)
    return _converge(plans, (links, homes), rules, dones, agreed, choices)


def _converge(
    plans: list[_Plan],
    linked: tuple[dict[int, dict[str, str]], dict],
    rules: dict[str, dict[str, FieldRule]],
    dones: dict[int, Convergence],
    agreed: dict[int, dict[str, object]],
    choices: dict[int, list[FieldChoice]],
) -> dict[int, Convergence | Exception]:
    """Write, flag and settle what the plans say, for all the records together."""
    failures = _write(plans, *linked, dones)
    with transaction.atomic():
        for plan in plans:
            record = plan.record
            type_rules = rules[record.type]
            for name, others in plan.flags.items():
                owner_value = plan.values[type_rules[name].owner].get(name)
                disagreement_open(
                    record=record, rule=type_rules[name], owner_value=owner_value, others=others
                )
                dones[record.pk].flagged.append(name)
        applied = [c.pk for p in plans if p.record.pk not in failures for c in choices[p.record.pk]]
        if applied:
            FieldChoice.objects.filter(pk__in=applied).update(applied_at=timezone.now())
        _settle(plans, rules, dones, agreed)
    return {pk: failures[pk][0] if pk in failures else done for pk, done in dones.items()}


def record_converge(*, record: Record) -> Convergence:
    """Converge one record (see records_converge); raise its failure."""
    (outcome,) = records_converge(records=[record])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
