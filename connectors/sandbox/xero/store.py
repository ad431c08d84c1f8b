"""The Xero sandbox's state: organisations, their contacts, items, tax rates and invoices."""

import threading
import time
import uuid
from collections import deque
from decimal import Decimal


def xero_date(seconds: float | None = None) -> str:
    """Return a time the way Xero's JSON writes it: /Date(ms+0000)/."""
    return f"/Date({int((seconds or time.time()) * 1000)}+0000)/"


class Organisation:
    """One tenant's books."""

    def __init__(self, tenant_id: str, name: str) -> None:
        self.tenant_id, self.name = tenant_id, name
        self.contacts: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.items = {
            code: {
                "ItemID": str(uuid.uuid4()),
                "Code": code,
                "Name": name,
                "SalesDetails": {"UnitPrice": price, "AccountCode": "200", "TaxType": "OUTPUT"},
            }
            for code, name, price in SEED_ITEMS
        }
        self.tax_rates = {
            t: {
                "Name": n,
                "TaxType": t,
                "Status": "ACTIVE",
                "EffectiveRate": r,
                "DisplayTaxRate": r,
                "CanApplyToRevenue": True,
            }
            for t, n, r in SEED_TAX_RATES
        }
        self.invoice_numbers = iter(range(1, 10**6))
        self.calls: deque[float] = deque()
        self.call_count = 0
        self.rejected = 0


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
SEED_TAX_RATES = [
    ("OUTPUT", "GST on Income", 10.0),
    ("EXEMPTOUTPUT", "GST Free Income", 0.0),
    ("BASEXCLUDED", "BAS Excluded", 0.0),
]


class Store:
    """Every organisation, the OAuth clients' tokens, idempotency records and faults."""

    def __init__(self, *, client_id: str, client_secret: str, minute_limit: int = 60) -> None:
        self.lock = threading.RLock()
        self.client_id, self.client_secret = client_id, client_secret
        self.minute_limit = minute_limit
        self.reset()

    def reset(self) -> None:
        """Forget every record, token and idempotency key: one fresh organisation."""
        with self.lock:
            demo = Organisation("6f4e7e1c-0000-4000-8000-00000000d3m0", "Demo Trades Pty Ltd")
            self.organisations = {demo.tenant_id: demo}
            self.access_tokens: dict[str, float] = {}  # token -> expiry
            self.refresh_tokens: set[str] = set()
            self.idempotent: dict[tuple[str, str, str], tuple[int, dict]] = {}
            self.token_calls = 0

    def issue_tokens(self) -> dict:
        """Issue a new access token and a single-use refresh token."""
        access, refresh = f"xa-{uuid.uuid4().hex}", f"xr-{uuid.uuid4().hex}"
        with self.lock:
            self.access_tokens[access] = time.time() + 1800
            self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 1800,
            "token_type": "Bearer",
            "scope": "offline_access accounting.invoices",
        }

    def token_valid(self, token: str) -> bool:
        return self.access_tokens.get(token, 0) > time.time()

    def invoice_total(self, invoice: dict) -> None:
        """Compute line amounts, tax and totals (GST at the tax rate on each line)."""
        sub = tax = Decimal("0")
        for line in invoice["LineItems"]:
            amount = Decimal(str(line.get("Quantity", 1))) * Decimal(str(line.get("UnitAmount", 0)))
            rate = Decimal(
                str(
                    self.organisations[invoice["_tenant"]].tax_rates[line["TaxType"]][
                        "EffectiveRate"
                    ]
                )
            )
            line_tax = (amount * rate / 100).quantize(Decimal("0.01"))
            if invoice.get("LineAmountTypes") == "Inclusive":
                line_tax = (amount * rate / (100 + rate)).quantize(Decimal("0.01"))
                amount -= line_tax
            line["LineAmount"], line["TaxAmount"] = float(amount), float(line_tax)
            sub, tax = sub + amount, tax + line_tax
        invoice.update(
            SubTotal=float(sub),
            TotalTax=float(tax),
            Total=float(sub + tax),
            AmountDue=float(sub + tax - Decimal(str(invoice.get("AmountPaid", 0)))),
        )
