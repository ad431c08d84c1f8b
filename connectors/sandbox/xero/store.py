"""The Xero sandbox's state: organisations, their contacts, items, tax rates and invoices."""

import fnmatch
import threading
import time
import uuid
from collections import Counter, deque
from decimal import ROUND_HALF_UP, Decimal

from connectors.sandbox.xero import tracking


def xero_date(seconds: float | None = None) -> str:
    """Return a time the way Xero's JSON writes it: /Date(ms+0000)/."""
    return f"/Date({int((seconds or time.time()) * 1000)}+0000)/"


class Organisation:
    """One tenant's books."""

    def __init__(self, tenant_id: str, name: str) -> None:
        self.tenant_id, self.name = tenant_id, name
        self.contacts: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.credit_notes: dict[str, dict] = {}
        # The currencies enabled (code -> Xero's Currency, with the sandbox's rate for the
        # day kept aside): the base currency, and others a test or the console enables.
        self.base_currency = "AUD"
        self.currencies: dict[str, dict] = {}
        currency_enable(self, "AUD", "Australian Dollar", 1.0)
        # The chart of accounts, by code (a few of Xero's Australian demo company's).
        self.accounts = {row[0]: account(*row) for row in SEED_ACCOUNTS}
        # How Xero rounds tax: per line ("line", as it does). "total" is a switch for tests
        # only: tax worked out on the invoice's total, so Xero's figures differ from the hub's.
        self.tax_rounding = "line"
        self.quotes: dict[str, dict] = {}
        self.items = {
            code: {
                "ItemID": str(uuid.uuid4()),
                "Code": code,
                "Name": name,
                "SalesDetails": {"UnitPrice": price, "AccountCode": "200", "TaxType": "OUTPUT"},
            }
            for code, name, price in SEED_ITEMS
        }
        self.tax_rates = {row[0]: tax_rate(*row) for row in SEED_TAX_RATES}
        self.tracking_categories = tracking.seed()
        # Whether lines keep the tracking they were sent with (Xero has been seen to drop it
        # in silence): False is a switch for tests of the hub's read-back check.
        self.tracking_kept = True
        self.invoice_numbers = iter(range(1, 10**6))
        self.credit_note_numbers = iter(range(1, 10**6))
        # When each counted call arrived: the rolling minute and the rolling day.
        self.calls: deque[float] = deque()
        self.day_calls: deque[float] = deque()
        self.call_count = 0
        self.rejected = 0
        self.in_flight = 0
        self.requests: Counter[str] = Counter()  # "PUT /Invoices" -> how many were answered


def currency_enable(org: Organisation, code: str, description: str, rate: float) -> None:
    """Enable a currency in the organisation, with the rate Xero would use for it today
    (units of it to one of the base currency)."""
    org.currencies[code] = {"Code": code, "Description": description, "_rate": rate}


SEED_ITEMS = [
    ("LABOUR-HR", "Labour - electrician (hours)", 110.0),
    ("LABOUR-PL", "Labour - plumber (hours)", 120.0),
    ("CALLOUT", "Call-out fee", 165.0),
    ("SWB-UPG", "Switchboard upgrade kit", 1800.0),
    ("HWS-250L", "Hot water system 250L", 2450.0),
    ("MAINT-Q", "Quarterly maintenance visit", 990.0),
    ("RCBO", "RCBO safety switch", 95.0),
    ("EM-TEST", "Emergency lighting test (per fitting)", 30.0),
    ("DISPOSAL", "Disposal of old unit", 240.0),
    ("FITOUT-EL", "Fit-out electrical package", 18400.0),
    ("3PH-CCT", "Three-phase circuit", 850.0),
]
# LED-600, sold in the CRM, is deliberately not an item here: the demo's missing item code.
# (TaxType, Name, rate %, the account classes it applies to), as Xero's Australian ones.
SEED_TAX_RATES = [
    ("OUTPUT", "GST on Income", 10.0, {"REVENUE"}),
    ("INPUT", "GST on Expenses", 10.0, {"ASSET", "EXPENSE"}),
    ("EXEMPTOUTPUT", "GST Free Income", 0.0, {"REVENUE"}),
    ("EXEMPTEXPENSES", "GST Free Expenses", 0.0, {"ASSET", "EXPENSE"}),
    ("INPUTTAXED", "Input Taxed", 0.0, {"REVENUE", "EXPENSE"}),
    ("BASEXCLUDED", "BAS Excluded", 0.0, {"ASSET", "EQUITY", "EXPENSE", "LIABILITY", "REVENUE"}),
]
# (Code, Name, Type, Class, default TaxType).
SEED_ACCOUNTS = [
    ("090", "Business Bank Account", "BANK", "ASSET", "BASEXCLUDED"),
    ("200", "Sales", "REVENUE", "REVENUE", "OUTPUT"),
    ("260", "Other Revenue", "OTHERINCOME", "REVENUE", "OUTPUT"),
    ("400", "Advertising", "EXPENSE", "EXPENSE", "INPUT"),
    ("820", "GST", "CURRLIAB", "LIABILITY", "BASEXCLUDED"),
]
# An account's Class, and the tax rate's field saying it may be used on such accounts.
APPLIES_TO = {
    "ASSET": "CanApplyToAssets",
    "EQUITY": "CanApplyToEquity",
    "EXPENSE": "CanApplyToExpenses",
    "LIABILITY": "CanApplyToLiabilities",
    "REVENUE": "CanApplyToRevenue",
}


def tax_rate(tax_type: str, name: str, rate: float, classes: set[str]) -> dict:
    """A tax rate as Xero's TaxRates endpoint gives it."""
    return {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": tax_type,
        "Status": "ACTIVE",
        "TaxComponents": [
            {"Name": "GST", "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}
        ],
        "DisplayTaxRate": rate,
        "EffectiveRate": rate,
        **{field: kind in classes for kind, field in APPLIES_TO.items()},
    }


def account(code: str, name: str, kind: str, account_class: str, tax_type: str) -> dict:
    """An account as Xero's Accounts endpoint gives it."""
    return {
        "AccountID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-account-{code}")),
        "Code": code,
        "Name": name,
        "Type": kind,
        "TaxType": tax_type,
        "Status": "ACTIVE",
        "Class": account_class,
        "EnablePaymentsToAccount": kind == "BANK",
        "ShowInExpenseClaims": account_class == "EXPENSE",
        "SystemAccount": "GST" if code == "820" else "",
        "HasAttachments": False,
        "UpdatedDateUTC": xero_date(),
    }


def allows(rate: dict, account_record: dict) -> bool:
    """Whether Xero lets this tax rate be used on this account (by the account's Class)."""
    return bool(rate.get(APPLIES_TO.get(account_record.get("Class", ""), ""), False))


def quote_seed(org: Organisation) -> None:
    """A customer who quotes in Xero: one SENT quote, ready to be accepted in the console."""
    stamp = xero_date()
    contact = {
        "ContactID": str(uuid.uuid4()),
        "Name": "Northside Dental Group",
        "EmailAddress": "accounts@northsidedental.example",
        "TaxNumber": "33 102 417 032",
        "ContactStatus": "ACTIVE",
        "PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
        "Addresses": [
            {
                "AddressType": "STREET",
                "AddressLine1": "3/88 Military Rd",
                "City": "Neutral Bay",
                "Region": "NSW",
                "PostalCode": "2089",
                "Country": "Australia",
            }
        ],
        "UpdatedDateUTC": stamp,
    }
    org.contacts[contact["ContactID"]] = contact
    lines = [
        ("FITOUT-EL", "Surgery 3 fit-out electrical package", 1, 18400.0),
        ("EM-TEST", "Emergency lighting test (per fitting)", 12, 30.0),
    ]
    quote = {
        "QuoteID": str(uuid.uuid4()),
        "QuoteNumber": "QU-0001",
        "Reference": "Surgery 3 fit-out",
        "Title": "Northside Dental - Surgery 3 fit-out",
        "Summary": "Electrical fit-out of the new surgery, with emergency lighting tested.",
        "Status": "SENT",
        "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
        "Date": stamp,
        "LineAmountTypes": "EXCLUSIVE",
        "CurrencyCode": "AUD",
        "LineItems": [
            {
                "ItemCode": code,
                "Description": text,
                "Quantity": qty,
                "UnitAmount": price,
                "LineAmount": qty * price,
                "TaxType": "OUTPUT",
                "AccountCode": "200",
            }
            for code, text, qty, price in lines
        ],
        "SubTotal": sum(q * p for _, _, q, p in lines),
        "TotalTax": round(sum(q * p for _, _, q, p in lines) * 0.1, 2),
        "Total": round(sum(q * p for _, _, q, p in lines) * 1.1, 2),
        "UpdatedDateUTC": stamp,
    }
    org.quotes[quote["QuoteID"]] = quote


class Store:
    """Every organisation, the OAuth clients' tokens, idempotency records and faults."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        minute_limit: int = 60,
        day_limit: int = 5000,
        concurrent_limit: int = 5,
    ) -> None:
        self.lock = threading.RLock()
        self.client_id, self.client_secret = client_id, client_secret
        self.minute_limit, self.day_limit = minute_limit, day_limit
        self.concurrent_limit = concurrent_limit
        # Xero's limit for the whole app, every organisation together.
        self.app_minute_limit = 10_000
        self.app_calls: deque[float] = deque()
        # Called with (tenant id, category, resource id, event type) for each change.
        self.listeners: list = []
        # e.g. {"status": 503}, {"latency_ms": 2000}, or {"clock_skew": 600}: Xero's clock
        # that far ahead of the hub's when it checks access tokens (they expire early).
        self.faults: dict = {}
        self.call_faults: list[dict] = []  # planned faults on chosen operations (fault_add)
        self.reset()

    def changed(self, org: Organisation, category: str, resource_id: str, kind: str) -> None:
        """Tell the listeners (the webhook sender) that a contact or invoice changed."""
        for listener in self.listeners:
            listener(org.tenant_id, category, resource_id, kind)

    def fault_add(
        self,
        *,
        operation: str,
        status: int | None = None,
        count: int | None = 1,
        latency_ms: int = 0,
        retry_after: int | None = None,
        after: bool = False,
    ) -> None:
        """Make the next `count` calls (all, when None) to an operation fail or come late.

        `operation` is the method and path under the API, e.g. "PUT /Invoices" (`*` matches
        anything, "GET /Contacts*"). With `after` the call is carried out first and only
        its answer fails or comes late, as when Xero saved an invoice but the answer was lost.
        """
        with self.lock:
            self.call_faults.append(
                {
                    "operation": operation,
                    "status": status,
                    "count": count,
                    "latency_ms": latency_ms,
                    "retry_after": retry_after,
                    "after": after,
                }
            )

    def fault_take(self, method: str, path: str) -> dict | None:
        """Return the planned fault for this call, using one of its count."""
        with self.lock:
            for fault in self.call_faults:
                if fault["count"] != 0 and fnmatch.fnmatchcase(
                    f"{method} {path}", fault["operation"]
                ):
                    if fault["count"] is not None:
                        fault["count"] -= 1
                    return dict(fault)
        return None

    def reset(self) -> None:
        """Forget every record, token, idempotency key and planned fault: fresh organisations."""
        with self.lock:
            self.call_faults = []
            orgs = [
                Organisation("6f4e7e1c-0d3a-4000-8000-000000000001", "Demo Trades Pty Ltd"),
                Organisation(
                    "6f4e7e1c-0d3a-4000-8000-000000000002", "Demo Trades Brisbane Pty Ltd"
                ),
            ]
            self.organisations = {org.tenant_id: org for org in orgs}
            quote_seed(orgs[0])
            self.grants: dict[str, set[str]] = {}  # grant -> the tenants a person allowed
            self.access_tokens: dict[str, tuple[float, str]] = {}  # token -> (expiry, grant)
            self.refresh_tokens: dict[str, str] = {}  # single-use token -> grant
            self.codes: dict[str, dict] = {}  # authorization code -> what it grants
            self.idempotent: dict[tuple[str, str, str], tuple[int, dict]] = {}
            self.token_calls = 0

    def issue_tokens(self, *, grant: str = "", tenants=None, scope: str = "") -> dict:
        """Issue an access token and a single-use refresh token for a grant (new by default).

        A new grant reaches the tenants given, or every organisation.
        """
        access, refresh = f"xa-{uuid.uuid4().hex}", f"xr-{uuid.uuid4().hex}"
        with self.lock:
            if not grant:
                grant = uuid.uuid4().hex
                self.grants[grant] = set(tenants or self.organisations)
            self.access_tokens[access] = (time.time() + 1800, grant)
            self.refresh_tokens[refresh] = grant
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 1800,
            "token_type": "Bearer",
            "scope": scope or "offline_access accounting.invoices",
        }

    def token_clock(self) -> float:
        """Xero's time when it checks a token: the real time plus any clock-skew fault."""
        return time.time() + float(self.faults.get("clock_skew", 0))

    def tenants_for(self, token: str) -> set[str]:
        """Return the tenants a live access token reaches (empty when it is unknown or expired)."""
        expiry, grant = self.access_tokens.get(token, (0, ""))
        return set(self.grants.get(grant, ())) if expiry > self.token_clock() else set()

    def token_expiry(self, token: str) -> float | None:
        """Return when an access token expires (Xero's time), or None for an unknown token."""
        return self.access_tokens[token][0] if token in self.access_tokens else None

    def tokens_expire(self) -> None:
        """Expire every access token now, as half an hour passing would."""
        with self.lock:
            for token, (_, grant) in list(self.access_tokens.items()):
                self.access_tokens[token] = (self.token_clock() - 1, grant)

    def invoice_total(self, invoice: dict) -> None:
        """Work out each line's amount and tax and the invoice's totals, as Xero does.

        A line's amount is quantity times unit price, less its DiscountRate (%), to the
        cent ("LineAmount = Quantity * UnitAmount * ((100 - DiscountRate)/100)", Xero's
        spec); its tax is that amount
        at its tax type's rate (prices including tax: the part the rate makes up), to the
        cent, halves up; the invoice's tax is the sum of its lines' ("Rounding in Xero").
        With prices including tax, LineAmount includes it and SubTotal is Total less tax.
        """
        org = self.organisations[invoice["_tenant"]]
        kind = invoice.get("LineAmountTypes") or "Exclusive"
        amounts = tax = Decimal("0")
        rated = []
        for line in invoice["LineItems"]:
            discount = Decimal(str(line.get("DiscountRate") or 0))
            amount = _cents(
                Decimal(str(line.get("Quantity", 1)))
                * Decimal(str(line.get("UnitAmount", 0)))
                * (100 - discount)
                / 100
            )
            rate = Decimal("0")
            if kind != "NoTax":
                rate = Decimal(str(org.tax_rates[line["TaxType"]]["EffectiveRate"]))
            share = rate / (100 + rate) if kind == "Inclusive" else rate / 100
            line_tax = _cents(amount * share)
            line["LineAmount"], line["TaxAmount"] = float(amount), float(line_tax)
            amounts, tax = amounts + amount, tax + line_tax
            rated.append((amount, share))
        if org.tax_rounding == "total":  # the switch: one rounding for the whole invoice
            tax = _cents(sum((amount * share for amount, share in rated), Decimal("0")))
        sub = amounts - tax if kind == "Inclusive" else amounts
        settled = Decimal(str(invoice.get("AmountPaid", 0))) + Decimal(
            str(invoice.get("AmountCredited", 0))
        )
        # A voided or deleted invoice is owed nothing (Xero's own example of one says 0.00).
        cancelled = invoice.get("Status") in ("VOIDED", "DELETED")
        invoice.update(
            SubTotal=float(sub),
            TotalTax=float(tax),
            Total=float(sub + tax),
            AmountDue=0.0 if cancelled else float(sub + tax - settled),
        )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
