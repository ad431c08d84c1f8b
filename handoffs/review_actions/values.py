"""Disagreements: keep the owner's value, or take another system's. Either is a person's
choice the ownership engine applies on a run of its own (no vendor call in the request)."""

from connectors.registry import systems
from handoffs.flows.shared_fields import records_look_again
from integration_hub import labels
from ownership.disagreements import field_choice_make, may_choose_other
from ownership.models import Record
from review_queue.actions import Action, ActionFailed, ActionField, action_register
from review_queue.details import Disagreement, details_of
from review_queue.models import ReviewItem


def choice_apply(*, record_id: int, change: str) -> None:
    """Start the engine's run for the record (on commit), where the choice is applied."""
    records_look_again(records=[Record.objects.get(pk=record_id)], change=change)


def _is_disagreement(item: ReviewItem) -> bool:
    return item.kind == ReviewItem.Kind.DISAGREEMENT and "others" in item.details


def _where(d: Disagreement) -> str:
    return " and ".join(other.label for other in d.others)


def _keep_owner_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    had = "; ".join(f"{o.label} has {o.shown!r}" for o in d.others)
    return (
        f"Write {d.owner_label}'s {d.label} {d.owner_shown!r} to {_where(d)} ({had}). "
        f"{d.owner_label} keeps {d.owner_shown!r}."
    )


def _keep_owner(item: ReviewItem, values: dict, by) -> str:
    d = details_of(item)
    choice = field_choice_make(details=d, system=d.owner, by=by)
    choice_apply(record_id=d.record, change=f"choice:{choice.pk}")
    return f"{d.owner_label}'s {d.label} {d.owner_shown!r} is being written to {_where(d)}."


def _others(item: ReviewItem) -> list[tuple[str, str]]:
    return [(o.system, f"{o.label}: {o.shown}") for o in details_of(item).others]


def _chosen(item: ReviewItem, values: dict, by):
    d = details_of(item)
    refused = may_choose_other(d, by)
    if refused:
        raise ActionFailed(refused)
    other = next((o for o in d.others if o.system == values.get("system")), None)
    if other is None and len(d.others) == 1:
        other = d.others[0]
    if other is None:
        raise ActionFailed("Choose whose value is right.")
    return d, other


def _take_other_preview(item: ReviewItem, values: dict) -> str:
    d = details_of(item)
    other = next((o for o in d.others if o.system == values.get("system")), d.others[0])
    rest = [o.label for o in d.others if o.system != other.system]
    also = f" and to {' and '.join(rest)}" if rest else ""
    who = {"admin": "admins", "staff": "office staff", "nobody": "nobody"}[d.editable_by]
    return (
        f"Change the {d.label} in {d.owner_label} (the owner) from {d.owner_shown!r} to "
        f"{other.shown!r}, as {other.label} has it{also}. The rule lets {who} do this."
    )


def _take_other(item: ReviewItem, values: dict, by) -> str:
    d, other = _chosen(item, values, by)
    choice = field_choice_make(details=d, system=other.system, by=by)
    choice_apply(record_id=d.record, change=f"choice:{choice.pk}")
    return f"{d.owner_label} is being given {other.label}'s {d.label} {other.shown!r}."


def _may_take_other(item: ReviewItem) -> bool:
    if not _is_disagreement(item):
        return False
    d = details_of(item)
    owner = systems().get(d.owner)
    return (
        d.editable_by != "nobody"
        and owner is not None
        and ((d.record_type, d.field) in owner.writable)
    )


action_register(
    Action(
        name="keep_owner",
        label=labels.REVIEW_ACTIONS["keep_owner"],
        explanation="The owning system is right: its value is written back where it was changed.",
        applies_to=_is_disagreement,
        perform=_keep_owner,
        preview=_keep_owner_preview,
    )
)
action_register(
    Action(
        name="take_other",
        label=labels.REVIEW_ACTIONS["take_other"],
        explanation="The other system is right: the owner is changed to its value, and every "
        "other copy follows (only where the rule lets you).",
        applies_to=_may_take_other,
        perform=_take_other,
        preview=_take_other_preview,
        fields=(ActionField("system", "Whose value is right?", choices=_others),),
    )
)
