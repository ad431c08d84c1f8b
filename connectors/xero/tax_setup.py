"""What Xero allows on an invoice line, checked before any invoice is sent.

The organisation's tax rates and chart of accounts are read in two calls and kept a few
minutes in the shared cache (connectors/xero/cached.py). A line whose account or
tax type Xero has archived, or whose tax type the account does not allow (the tax rate's
CanApplyTo<class> for the account's Class, Xero's spec), or whose tax type does not
charge the treatment's rate, gives one error naming the codes that would do. A problem
seen in the cache is read again from Xero before it is believed (someone may have just
fixed it there).
"""

from dataclasses import dataclass
from decimal import Decimal

from connectors.base import TAX_TREATMENTS, InvoiceLine
from connectors.errors import Invalid
from connectors.models import InvoiceSettings
from connectors.xero.accounting import XeroAccounting
from connectors.xero.cached import checked_against
from connectors.xero.mapping import code

# An account's Class, and the tax rate's flag saying it may be used on such accounts.
APPLIES_TO = {
    "ASSET": "can_apply_to_assets",
    "EQUITY": "can_apply_to_equity",
    "EXPENSE": "can_apply_to_expenses",
    "LIABILITY": "can_apply_to_liabilities",
    "REVENUE": "can_apply_to_revenue",
}


@dataclass(frozen=True)
class Rate:
    """A tax rate: its type, name, status, rate (%) and the account classes it applies to."""

    tax_type: str
    name: str
    status: str
    rate: Decimal
    classes: frozenset[str]

    def label(self) -> str:
        return f"{self.tax_type} ({self.name}, {self.rate.normalize():f}%)"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    status: str
    account_class: str

    def label(self) -> str:
        return f"{self.code} ({self.name})"


@dataclass(frozen=True)
class TaxSetup:
    """The organisation's tax rates by type and accounts by code."""

    rates: dict[str, Rate]
    accounts: dict[str, Account]


def _read(xero: XeroAccounting) -> TaxSetup:
    rates = {
        r.tax_type: Rate(
            tax_type=r.tax_type,
            name=r.name or "",
            status=code(r.status),
            rate=Decimal(str(r.effective_rate or 0)),
            classes=frozenset(c for c, flag in APPLIES_TO.items() if getattr(r, flag)),
        )
        for r in xero.tax_rates()
    }
    accounts = {
        a.code: Account(a.code, a.name or "", code(a.status), code(a._class))
        for a in xero.accounts()
        if a.code
    }
    return TaxSetup(rates, accounts)


@dataclass(frozen=True)
class Problem:
    """Why some lines cannot go to Xero as the settings say, and the codes that would do."""

    root: str
    why: str
    lines: str  # which lines: "the lines", "the GST-free lines"
    setting: str
    allowed: list[str]

    def text(self) -> str:
        allowed = ", ".join(self.allowed) or "none that fits"
        return (
            f"{self.why}, so {self.lines} cannot go to Xero as '{self.setting}' says. "
            f"Xero would take: {allowed}."
        )


def _account_problem(setup: TaxSetup, account_code: str) -> Problem | None:
    account = setup.accounts.get(account_code)
    if account is not None and account.status == "ACTIVE":
        return None
    why = (
        f"Xero has no account {account_code}"
        if account is None
        else f"Xero has archived account {account.label()}"
    )
    allowed = sorted(
        a.label()
        for a in setup.accounts.values()
        if a.status == "ACTIVE" and a.account_class == "REVENUE"
    )
    return Problem(f"account:{account_code}", why, "the lines", "Sales account", allowed)


def _tax_problem(
    setup: TaxSetup, settings: InvoiceSettings, tax: str, rate: Decimal
) -> Problem | None:
    account = setup.accounts[settings.sales_account]
    tax_type = settings.tax_type(tax)
    found = setup.rates.get(tax_type)
    if found is None:
        why = f"Xero has no tax type {tax_type}"
    elif found.status != "ACTIVE":
        why = f"Xero has {found.status.lower()} tax type {found.label()}"
    elif account.account_class not in found.classes:
        why = f"Xero does not allow tax type {found.label()} on account {account.label()}"
    elif found.rate != rate:
        why = f"Xero's tax type {found.label()} does not charge {rate.normalize():f}%"
    else:
        return None
    allowed = sorted(
        r.label()
        for r in setup.rates.values()
        if r.status == "ACTIVE" and account.account_class in r.classes and r.rate == rate
    )
    return Problem(
        root=f"tax:{account.code}:{tax_type}:{rate.normalize():f}",
        why=why,
        lines=f"the {TAX_TREATMENTS[tax]} lines",
        setting=settings.setting_of(tax),
        allowed=allowed,
    )


def problems_of(
    setup: TaxSetup, settings: InvoiceSettings, lines: tuple[InvoiceLine, ...]
) -> list[Problem]:
    """What stops these lines going to Xero as the settings say (nothing: an empty list)."""
    account = _account_problem(setup, settings.sales_account)
    if account is not None:
        return [account]
    treatments = dict.fromkeys((line.tax, line.rate) for line in lines)
    return [
        problem
        for tax, rate in treatments
        if (problem := _tax_problem(setup, settings, tax, rate)) is not None
    ]


def lines_problems(
    xero: XeroAccounting, settings: InvoiceSettings, jobs: dict[str, tuple[InvoiceLine, ...]]
) -> dict[str, list[Problem]]:
    """What stops each job's lines going to Xero as the settings say (jobs by number)."""

    def check(setup: TaxSetup) -> dict[str, list[Problem]]:
        return {number: problems_of(setup, settings, lines) for number, lines in jobs.items()}

    return checked_against(xero, "tax-setup", _read, check)


def setup_refusal(problems: list[Problem], tenant: str) -> Invalid:
    """The one error some lines give: one review item per setting gone wrong in an
    organisation, whichever jobs meet it, naming the codes Xero would take."""
    first = problems[0]
    return Invalid(
        "No invoice was sent: " + " ".join(p.text() for p in problems),
        system="xero",
        code="invoice_setup",
        title=f"Invoices wait: {first.why}",
        root=f"xero:invoice-setup:{'|'.join(sorted(p.root for p in problems))}:{tenant}",
        fix=f"On the hub's Xero page, set '{first.setting}' under 'How jobs are written on "
        "invoices' to one of the codes Xero would take (or restore the code in Xero), then "
        "press Retry: each invoice waiting on this item is sent once.",
        details={
            "setting": first.setting,
            "allowed_codes": [label.split(" ")[0] for label in first.allowed],
        },
    )
