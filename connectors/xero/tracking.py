"""Xero's tracking categories: the option each invoice line carries, checked before any
invoice is sent.

The organisation's categories and options are read in one call and kept a few minutes in
the shared cache (connectors/xero/cached.py). A category or option Xero does not have, or
has archived, stops the jobs that name it with one error per (category, option), naming
the options Xero has and what to do: no invoice goes untracked in silence.
"""

from dataclasses import dataclass

from xero_python.accounting import LineItemTracking

from connectors.base import Tracking
from connectors.errors import Invalid
from connectors.xero.accounting import XeroAccounting
from connectors.xero.cached import checked_against
from connectors.xero.mapping import code


@dataclass(frozen=True)
class Category:
    """A tracking category: its name, status and options (name → status)."""

    name: str
    status: str
    options: dict[str, str]

    def status_of(self, option: str) -> str | None:
        """The option's status, matched in any case as Xero matches it (None: no such one)."""
        return next((s for n, s in self.options.items() if n.lower() == option.lower()), None)


@dataclass(frozen=True)
class Problem:
    """Why Xero would not take a line's option, and the options it has in that category."""

    wanted: Tracking
    why: str
    options: list[str]


def _read(xero: XeroAccounting) -> dict[str, Category]:
    """Every category by its name in lower case (Xero matches names in any case)."""
    return {
        c.name.lower(): Category(
            c.name, code(c.status), {o.name: code(o.status) for o in c.options or []}
        )
        for c in xero.tracking_categories()
    }


def _problem(categories: dict[str, Category], wanted: Tracking) -> Problem | None:
    found = categories.get(wanted.category.lower())
    if found is None:
        names = sorted(c.name for c in categories.values() if c.status == "ACTIVE")
        return Problem(wanted, f"Xero has no tracking category '{wanted.category}'", names)
    active = sorted(name for name, status in found.options.items() if status == "ACTIVE")
    status = found.status_of(wanted.option)
    if found.status != "ACTIVE":
        why = f"Xero has archived its tracking category '{found.name}'"
    elif status is None:
        why = f"Xero's tracking category '{found.name}' has no option '{wanted.option}'"
    elif status != "ACTIVE":
        why = f"Xero has archived the option '{wanted.option}' of tracking category '{found.name}'"
    else:
        return None
    return Problem(Tracking(found.name, wanted.option), why, active)


def tracking_refusals(
    xero: XeroAccounting, jobs: dict[str, tuple[Tracking, ...]]
) -> dict[str, Invalid]:
    """Each job's tracking Xero would not take, as the one error every job naming the same
    category and option shares (jobs by number; jobs Xero would take are left out)."""

    def check(categories: dict[str, Category]) -> dict[str, list[Problem]]:
        return {
            number: [p for t in wanted if (p := _problem(categories, t)) is not None]
            for number, wanted in jobs.items()
        }

    found = checked_against(xero, "tracking", _read, check)
    tenant = xero.connection.tenant_id
    return {number: _refusal(problems[0], tenant) for number, problems in found.items() if problems}


def _refusal(problem: Problem, tenant: str) -> Invalid:
    wanted = problem.wanted
    has = ", ".join(problem.options) or "none"
    missing_category = problem.why.startswith("Xero has no tracking category")
    what = "categories" if missing_category else "options"
    place = (
        f"add the tracking category '{wanted.category}' in Xero (Accounting › Advanced › "
        "Tracking categories), with the option"
        if missing_category
        else f"in Xero, add (or restore) the option '{wanted.option}' of tracking category "
        f"'{wanted.category}' (Accounting › Advanced › Tracking categories)"
    )
    return Invalid(
        f"No invoice was sent: {problem.why}, so the lines of the jobs with "
        f"'{wanted.option}' cannot carry it. The {what} Xero has: {has}.",
        system="xero",
        code="tracking_option",
        title=f"Invoices wait: {problem.why}",
        root=f"xero:tracking:{wanted.category.lower()}:{wanted.option.lower()}:{tenant}",
        fix=f"{place[0].upper()}{place[1:]}, then press Retry: each invoice waiting on this "
        "item is sent once, tracked. (Or change the mapping on the hub's Xero page, under "
        "'Tracking categories'.)",
        details={
            "category": wanted.category,
            "option": wanted.option,
            "options": problem.options,
        },
    )


def line_tracking(tracking: tuple[Tracking, ...]) -> list[LineItemTracking] | None:
    """A line's tracking for xero-python (by names: Xero finds the ids)."""
    return [LineItemTracking(name=t.category, option=t.option) for t in tracking] or None
