"""Work to do once the database transaction commits, whose failure must never undo it."""

from collections.abc import Callable

from django.db import transaction


def after_commit(func: Callable, *args, **kwargs) -> None:
    """Call func(*args, **kwargs) once the transaction commits (at once outside one).

    A failure there (the broker down, a worker's time limit) is logged, never raised: the
    sweeper sends again what was not sent. Django logs a failed callback by its
    `__qualname__`, which a functools.partial lacks: logging it then raised an
    AttributeError from inside the handoff that only wanted to enqueue a run.
    """

    def call() -> None:
        func(*args, **kwargs)

    call.__qualname__ = getattr(func, "__qualname__", repr(func))
    transaction.on_commit(call, robust=True)
