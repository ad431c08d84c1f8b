"""Resolution actions that higher layers register, so this app never imports them."""

from collections.abc import Callable
from dataclasses import dataclass

from review_queue.models import ReviewItem


@dataclass(frozen=True)
class Action:
    """A way to resolve an item: its name, a button label and what it does."""

    name: str
    label: str
    explanation: str
    applies_to: Callable[[ReviewItem], bool]
    # Called inside the resolving transaction; returns a one-line outcome.
    perform: Callable[[ReviewItem], str]


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
