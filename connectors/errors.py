"""The hub's own errors: vendor failures classified once, at the edge.

Each error carries a plain-words message a staff member understands, the fix,
and the raw vendor detail. `transient` says whether trying again later may help.
"""


class ConnectorError(Exception):
    """A call to another system did not do what was asked."""

    transient = False
    code = "failed"

    def __init__(
        self,
        message: str,
        *,
        system: str,
        fix: str = "",
        detail: str = "",
        code: str | None = None,
        field: str = "",
        details: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.fix = fix
        self.detail = detail
        self.field = field
        # What a person needs to fix it from the review queue (e.g. the bad item codes).
        self.details = details or {}
        if code:
            self.code = code


class Transient(ConnectorError):
    """The system failed in a way that may pass (timeout, 5xx)."""

    transient = True
    code = "unavailable"


class Waiting(Transient):
    """Not a failure: the work must wait `retry_after` seconds (a rate limit, a request that
    may still be settling at the vendor). Waiting never spends one of a handoff's attempts."""

    code = "waiting"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimited(Waiting):
    """The system (or the hub's own pacing of it) asks us to slow down."""

    code = "rate_limited"


class AuthExpired(ConnectorError):
    """The system refused our credentials: a person must reconnect it."""

    code = "auth"


class Invalid(ConnectorError):
    """The data is missing or wrong; a person must fix it, then retry.

    `root` names a cause many records share (a setting), so they wait on one item, which
    `title` names; without it each record has its own.
    """

    code = "invalid"

    def __init__(self, message: str, *, root: str = "", title: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.root, self.title = root, title


class NotFound(ConnectorError):
    """The record does not exist (or no longer exists) in that system."""

    code = "not_found"


class Duplicate(ConnectorError):
    """The system already holds this record."""

    code = "duplicate"


class Disagreement(ConnectorError):
    """Two systems differ in a way only a person may settle (a non-owner's value, a quote
    changed after work started, a likely duplicate); `details` carries the choices."""

    code = "disagreement"

    def __init__(
        self,
        message: str,
        *,
        title: str,
        details: dict,
        kind: str = "disagreement",
        root: str = "",
        **kwargs,
    ) -> None:
        super().__init__(message, **kwargs)
        self.title, self.details, self.kind = title, details, kind
        # What makes two of these the same problem, when it is not the run's record.
        self.root = root


class SignatureRefused(Exception):
    """A webhook request is not provably from the system; the message says why."""


class MalformedDelivery(Exception):
    """A webhook body is not the system's event format; the message says what is wrong."""
