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

What to do with each copy: ownership/decisions.py. The reads and writes of each system:
ownership/engine_io.py.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.base import Value
from connectors.errors import Waiting
from connectors.registry import systems, systems_shared
from ownership.catalogue import field_of
from ownership.decisions import Plan, choices_apply, rules_apply
from ownership.disagreements import disagreement_open
from ownership.engine_io import moved_followed, values_read, values_write
from ownership.models import AgreedValue, FieldChoice, FieldRule, Link, Record
from ownership.values import same, shown_as, stored
from review_queue.models import ReviewItem
from review_queue.services import review_item_settle


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


def _settle(
    plans: list[Plan],
    rules: dict[str, dict[str, FieldRule]],
    dones: dict[int, Convergence],
    agreed: dict[int, dict[str, object]],
) -> None:
    """Keep the value of every field all systems now hold; close items the values settled.

    Only values that changed are written, and only open items are looked at: the records
    of one run cost two statements together, whatever their number."""
    settled: dict[str, tuple[Plan, str, object]] = {}
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
    already read, lets those events find nothing left to do. Two queries a kind moved."""
    known = systems()
    leaders: dict[tuple[str, str], dict[int, Convergence]] = {}
    for each in done.values():
        if isinstance(each, Convergence):
            for system in set(each.written):
                then = getattr(known.get(system), "moves", {}).get(each.record.type)
                if then:
                    leaders.setdefault((system, then), {})[each.record.pk] = each
    moved: dict[Record, Convergence] = {}
    for (system, then), led in leaders.items():
        ids = dict(
            Link.objects.filter(record__in=list(led), system=system).values_list(
                "external_id", "record_id"
            )
        )
        followers = (
            Link.objects.filter(system=system, record_type=then, external_id__in=list(ids))
            .exclude(record__in=skip)
            .select_related("record")
        )
        for link in followers:
            moved[link.record] = led[ids[link.external_id]]
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
    values = values_read(records, links, homes, fresh)
    followed, spoken = ({}, set()) if dry_run else moved_followed(records, links, homes, values)
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
        plan = Plan(record, values[record.pk])
        if not dry_run:
            choices_apply(plan, rules.get(record.type, {}), choices[record.pk])
        rules_apply(plan, rules.get(record.type, {}), agreed[record.pk])
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
    plans: list[Plan],
    linked: tuple[dict[int, dict[str, str]], dict],
    rules: dict[str, dict[str, FieldRule]],
    dones: dict[int, Convergence],
    agreed: dict[int, dict[str, object]],
    choices: dict[int, list[FieldChoice]],
) -> dict[int, Convergence | Exception]:
    """Write, flag and settle what the plans say, for all the records together."""
    failures = values_write(plans, *linked, dones)
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
