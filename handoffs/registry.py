"""The handoffs the hub knows: which business events start them and what they do."""

from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.base import BusinessEvent


@dataclass(frozen=True)
class Outcome:
    """How a run ended when it did not fail: a one-line summary and what it made."""

    summary: str
    skipped: bool = False
    result: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Handoff:
    """A flow from one business event to its effect in another system."""

    name: str
    label: str
    listens_to: frozenset[str]
    # The worker queue, named after the system the handoff calls most.
    queue: str
    record_type: str
    # The business key: one run, and so one effect, per key.
    key: Callable[[BusinessEvent], str]
    # Receives the run; returns an Outcome or raises a ConnectorError.
    perform: Callable[..., Outcome]
    # A dry run: reads only, returns what perform would send. None when not offered.
    preview: Callable[..., str] | None = None
    # Narrows listens_to: only events for which this returns True start a run.
    applies: Callable[[BusinessEvent], bool] | None = None
    # Handles many runs in one go (e.g. one Xero request for 50 invoices): receives the runs,
    # returns an Outcome or an exception for each, in order. perform is then batch of one.
    batch: Callable[[list], list] | None = None
    batch_size: int = 1
    # A new run waits this long before a worker takes it, so its companions can gather.
    gather_seconds: float = 0


_HANDOFFS: dict[str, Handoff] = {}


def handoff_register(handoff: Handoff) -> Handoff:
    """Add a handoff; its name must be new."""
    if handoff.name in _HANDOFFS:
        raise ValueError(f"A handoff named {handoff.name!r} is already registered.")
    _HANDOFFS[handoff.name] = handoff
    return handoff


def handoff_get(name: str) -> Handoff:
    """Return the handoff with this name."""
    return _HANDOFFS[name]


def handoffs_for(happened: BusinessEvent) -> list[Handoff]:
    """Return the handoffs that this business event starts."""
    return [
        h
        for h in _HANDOFFS.values()
        if happened.type in h.listens_to and (h.applies is None or h.applies(happened))
    ]
