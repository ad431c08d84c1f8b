"""What the ownership engine does with each copy of a shared field, by its rule.

`decide` says it for one carrier's copy: equal, carry, restore, flag or ignore. A `Plan`
gathers one record's writes and flags: the rules' verdicts (`rules_apply`) and the values
people chose on review items (`choices_apply`). ownership/engine.py runs the plans.
"""

from typing import TYPE_CHECKING

from connectors.base import Value
from connectors.registry import systems
from ownership.catalogue import field_of
from ownership.models import FieldChoice, FieldRule, Record
from ownership.values import empty, loaded, same

if TYPE_CHECKING:
    from ownership.engine import Convergence


def decide(kind: str, owner: Value, copy: Value, agreed, rule: FieldRule) -> str:
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


class Plan:
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


def choices_apply(
    plan: Plan, rules: dict[str, FieldRule], choices: list[FieldChoice]
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


def rules_apply(plan: Plan, rules: dict[str, FieldRule], agreed: dict[str, object]) -> None:
    for name, rule in rules.items():
        if rule.owner not in plan.values:
            continue  # the owner does not know the record yet: nothing to compare with
        kind = field_of(plan.record.type, name).kind
        owner = plan.values[rule.owner].get(name)
        for carrier in rule.carriers:
            if carrier not in plan.values or name in plan.writes.get(carrier, {}):
                continue
            plan.compared += 1
            verdict = decide(kind, owner, plan.values[carrier].get(name), agreed.get(name), rule)
            if verdict in ("carry", "restore"):
                plan.write(carrier, name, owner, verdict=verdict)
            elif verdict == "flag":
                plan.flags.setdefault(name, []).append((carrier, plan.values[carrier].get(name)))
