"""The one place that says which job status may follow which, and who may set it."""

from operations.models import Job

S = Job.Status
ALLOWED: dict[str, set[str]] = {
    S.SCHEDULED: {S.IN_PROGRESS, S.ON_HOLD, S.CANCELLED},
    S.IN_PROGRESS: {S.DONE, S.ON_HOLD, S.CANCELLED},
    S.ON_HOLD: {S.SCHEDULED, S.IN_PROGRESS, S.CANCELLED},
    S.DONE: {S.INVOICED, S.IN_PROGRESS},
    S.INVOICED: {S.PAID, S.DONE},
    S.PAID: {S.INVOICED},
    S.CANCELLED: set(),
}
# Finance owns these: they follow the invoice in Xero, set by the hub's handoffs.
FINANCE_ONLY = {S.INVOICED, S.PAID}
# An invoice voided or deleted in Xero sends its job back to done, and a paid job whose
# invoice was credited and drafted anew is invoiced again; only finance does that.
FINANCE_ONLY_MOVES = {(S.INVOICED, S.DONE), (S.PAID, S.INVOICED)}


class TransitionRefused(ValueError):
    """The job cannot move to that status; the message says why and what can."""


def transition_check(*, job: Job, to: str, by_finance: bool = False) -> None:
    """Raise TransitionRefused unless the job may move from its status to `to`."""
    if to not in S.values:
        raise TransitionRefused(f"Unknown status '{to}'. Use one of: {', '.join(S.values)}.")
    allowed = ALLOWED[job.status]
    if to not in allowed:
        options = ", ".join(sorted(allowed)) or "none (this status is final)"
        raise TransitionRefused(
            f"A job that is {job.get_status_display().lower()} cannot become "
            f"'{S(to).label.lower()}'. It can become: {options}."
        )
    if (to in FINANCE_ONLY or (job.status, to) in FINANCE_ONLY_MOVES) and not by_finance:
        raise TransitionRefused(
            f"'{S(to).label}' follows the invoice in Xero; the hub sets it, not a person."
        )


def next_statuses(job: Job) -> list[tuple[str, str]]:
    """Return the (value, label) statuses a person may move the job to now."""
    return [
        (s, S(s).label)
        for s in S.values
        if s in ALLOWED[job.status] - FINANCE_ONLY and (job.status, s) not in FINANCE_ONLY_MOVES
    ]
