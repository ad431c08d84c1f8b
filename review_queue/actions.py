"""Resolution actions that higher layers register, so this app never imports them."""

from collections.abc import Callable
from dataclasses import dataclass, field

from review_queue.models import ReviewItem


class ActionFailed(Exception):
    """The action could not be done; the message says why, in plain words."""


@dataclass(frozen=True)
class ActionField:
    """One value a person gives with an action (a fixed item code, a chosen value)."""

    name: str
    label: str
    help: str = ""
    # (value, label) pairs; empty means free text.
    choices: Callable[[ReviewItem], list[tuple[str, str]]] | None = None
    initial: Callable[[ReviewItem], str] | None = None


@dataclass(frozen=True)
class Action:
    """A way to resolve an item: a button, what it does, and what it would do (preview)."""

    name: str
    label: str
    explanation: str
    applies_to: Callable[[ReviewItem], bool]
    # Called inside the resolving transaction with the person's values and the person;
    # returns a one-line outcome, or raises ActionFailed to leave the item open.
    perform: Callable[[ReviewItem, dict, object], str]
    # A dry run with no side effects: what perform would send or change.
    preview: Callable[[ReviewItem, dict], str] | None = None
    fields: tuple[ActionField, ...] = field(default_factory=tuple)
    # Most actions close the item; some (a fix that is retried) leave it open
    # until the retried work succeeds.
    closes_item: bool = True


_ACTIONS: dict[str, Action] = {}


def action_register(action: Action) -> None:
    """Make an action available to items it applies to."""
    _ACTIONS[action.name] = action


def actions_for(item: ReviewItem) -> list[Action]:
    """Return the actions that fit this item, in registration order."""
    return [action for action in _ACTIONS.values() if action.applies_to(item)]


def action_get(name: str) -> Action | None:
    """Return the registered action with this name, if any."""
    return _ACTIONS.get(name)


# Called as listener(item=, by=, reason=) inside the transaction that dismisses an item;
# each returns what it did, in a sentence, or "".
_ON_DISMISS: list[Callable[..., str]] = []


def dismissal_subscribe(listener: Callable[..., str]) -> None:
    """Have listener told of every item a person dismisses (what waited on it ends too)."""
    _ON_DISMISS.append(listener)


def dismissal_effects(item: ReviewItem, by, reason: str) -> list[str]:
    """Tell every listener the item was dismissed; return what they did."""
    return [said for listener in _ON_DISMISS if (said := listener(item=item, by=by, reason=reason))]
