"""The Xero sandbox speaks Xero: its answers deserialize through xero-python's own models."""

import json
import re
from decimal import Decimal as D

import pytest
from xero_python.accounting import (
    AccountingApi,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    LineItemTracking,
)
from xero_python.api_client.oauth2 import TokenApi
from xero_python.identity import IdentityApi

from connectors.sandbox.xero import console
from connectors.sandbox.xero.server import start_in_thread
from connectors.sandbox.xero.store import tax_rate
from connectors.xero.client import api_client
from connectors.xero.mapping import code

CLIENT, SECRET = "sandbox-client", "sandbox-secret"


@pytest.fixture
def xero():
    sandbox = start_in_thread(client_id=CLIENT, client_secret=SECRET, minute_limit=20)
    token = sandbox.store.issue_tokens()
    client = api_client(
        client_id=CLIENT,
        client_secret=SECRET,
        token_getter=lambda: dict(token, expires_at=9_999_999_999),
        token_saver=lambda new_token: None,
    )
    accounting = AccountingApi(client, base_url=f"{sandbox.url}/api.xro/2.0")
    tenant = IdentityApi(client, base_url=sandbox.url).get_connections()[0].tenant_id
    yield sandbox, client, accounting, tenant
    sandbox.stop()


def invoice(contact_number: str, item_code: str = "LABOUR-HR") -> Invoice:
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_number=contact_number),
        reference="J-1001",
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        status="DRAFT",
        line_items=[
            LineItem(
                description="Labour",
                quantity=2,
                unit_amount=110,
                item_code=item_code,
                account_code="200",
                tax_type="OUTPUT",
            )
        ],
    )


def test_contacts_are_unique_by_name_and_found_by_contact_number(xero):
    sandbox, _, accounting, tenant = xero
    made = accounting.create_contacts(
        tenant,
        Contacts(contacts=[Contact(name="Harbour View Cafe", contact_number="HUB-1")]),
        summarize_errors=False,
    )
    assert made.contacts[0].contact_id
    again = accounting.create_contacts(
        tenant, Contacts(contacts=[Contact(name="harbour view cafe")]), summarize_errors=False
    )
    assert again.contacts[0].has_validation_errors
    assert (
        "must be unique across all active contacts"
        in again.contacts[0].validation_errors[0].message
    )
    found = accounting.get_contacts(tenant, where='ContactNumber=="HUB-1"').contacts
    assert [c.name for c in found] == ["Harbour View Cafe"]
    # Contact numbers are unique among all contacts, archived ones too (Xero's words).
    sandbox.store.organisations[tenant].contacts[found[0].contact_id]["ContactStatus"] = "ARCHIVED"
    taken = accounting.create_contacts(
        tenant,
        Contacts(contacts=[Contact(name="Harbour View Cafe", contact_number="HUB-1")]),
        summarize_errors=False,
    ).contacts[0]
    assert "must be unique across all contacts" in taken.validation_errors[0].message


def test_a_batch_reports_errors_per_invoice_and_a_replayed_key_returns_the_first_answer(xero):
    sandbox, _, accounting, tenant = xero
    accounting.create_contacts(
        tenant, Contacts(contacts=[Contact(name="Cafe", contact_number="HUB-1")])
    )
    batch = Invoices(invoices=[invoice("HUB-1"), invoice("HUB-1", "NOPE"), invoice("HUB-404")])
    first = accounting.create_invoices(
        tenant, batch, summarize_errors=False, idempotency_key="jobs-1"
    )
    good, bad_item, bad_contact = first.invoices
    assert (good.invoice_number, good.status, good.total) == ("INV-0001", "DRAFT", 242)
    assert good.line_amount_types == LineAmountTypes.EXCLUSIVE
    assert (
        bad_item.has_errors
        and "Item code 'NOPE' is not valid." in bad_item.validation_errors[0].message
    )
    assert "A Contact must be specified" in bad_contact.validation_errors[0].message
    replay = accounting.create_invoices(
        tenant, batch, summarize_errors=False, idempotency_key="jobs-1"
    )
    assert replay.invoices[0].invoice_id == good.invoice_id
    assert len(sandbox.store.organisations[tenant].invoices) == 1
    read = accounting.get_invoice(tenant, good.invoice_id).invoices[0]
    assert (read.reference, read.contact.name, read.sub_total) == ("J-1001", "Cafe", 220)


def test_items_tax_rates_and_accounts_deserialize(xero):
    _, _, accounting, tenant = xero
    assert "HWS-250L" in [i.code for i in accounting.get_items(tenant).items]
    rates = {t.tax_type: t for t in accounting.get_tax_rates(tenant).tax_rates}
    assert (rates["OUTPUT"].effective_rate, rates["OUTPUT"].can_apply_to_revenue) == (10, True)
    assert (rates["INPUT"].can_apply_to_revenue, code(rates["INPUT"].status)) == (False, "ACTIVE")
    accounts = {a.code: a for a in accounting.get_accounts(tenant).accounts}
    assert (accounts["200"].name, code(accounts["200"]._class)) == ("Sales", "REVENUE")


CAFE = Contact(name="Cafe", contact_number="HUB-1")


def _lines(prices: list[tuple[str, str]], tax_type: str = "OUTPUT2") -> list[LineItem]:
    return [
        LineItem(
            description="Product",
            quantity=float(quantity),
            unit_amount=float(price),
            account_code="200",
            tax_type=tax_type,
        )
        for quantity, price in prices
    ]


def test_tax_is_rounded_per_line_as_in_xeros_rounding_guide(xero):
    """Xero's guide: 25.06, 25.61 and 25.63 at 15% are 11.44 of tax (per line), not 11.45."""
    sandbox, _, accounting, tenant = xero
    org = sandbox.store.organisations[tenant]
    with sandbox.store.lock:
        org.tax_rates["OUTPUT2"] = tax_rate("OUTPUT2", "GST on Income (15%)", 15.0, {"REVENUE"})
    accounting.create_contacts(tenant, Contacts(contacts=[CAFE]))
    lines = _lines([("1", "25.06"), ("1", "25.61"), ("1", "25.63")])
    made = accounting.create_invoices(
        tenant,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_number="HUB-1"),
                    line_amount_types=LineAmountTypes.EXCLUSIVE,
                    line_items=lines,
                )
            ]
        ),
    ).invoices[0]
    assert [line.tax_amount for line in made.line_items] == [D("3.76"), D("3.84"), D("3.84")]
    assert (made.sub_total, made.total_tax, made.total) == (D("76.30"), D("11.44"), D("87.74"))


def test_prices_including_tax_keep_their_line_amounts_and_unitdp_keeps_four_places(xero):
    sandbox, _, accounting, tenant = xero
    accounting.create_contacts(tenant, Contacts(contacts=[CAFE]))

    def made(lines, kind, **query):
        invoice = Invoice(
            type="ACCREC",
            contact=Contact(contact_number="HUB-1"),
            line_amount_types=kind,
            line_items=lines,
        )
        return accounting.create_invoices(tenant, Invoices(invoices=[invoice]), **query).invoices[0]

    inclusive = made(_lines([("1", "10.74")], "OUTPUT"), LineAmountTypes.INCLUSIVE)
    line = inclusive.line_items[0]
    assert (line.line_amount, line.tax_amount) == (
        D("10.74"),
        D("0.98"),
    )  # 10.74 x 10/110, halves up
    assert (inclusive.sub_total, inclusive.total_tax, inclusive.total) == (
        D("9.76"),
        D("0.98"),
        D("10.74"),
    )
    # Xero's guide: 1000 x 0.061171. Without unitdp=4 the price is 0.06; with it, 0.0612.
    many = _lines([("1000", "0.061171")], "OUTPUT")
    assert made(many, LineAmountTypes.EXCLUSIVE).sub_total == D("60.00")
    four = made(many, LineAmountTypes.EXCLUSIVE, unitdp=4)
    assert (four.line_items[0].unit_amount, four.sub_total, four.total) == (
        D("0.0612"),
        D("61.20"),
        D("67.32"),
    )


def test_an_archived_tax_type_and_one_the_account_does_not_allow_are_refused(xero):
    sandbox, _, accounting, tenant = xero
    org = sandbox.store.organisations[tenant]
    with sandbox.store.lock:
        org.tax_rates["EXEMPTOUTPUT"]["Status"] = "ARCHIVED"
        org.accounts["260"]["Status"] = "ARCHIVED"
    accounting.create_contacts(tenant, Contacts(contacts=[CAFE]))
    invoices = [
        Invoice(
            type="ACCREC",
            contact=Contact(contact_number="HUB-1"),
            line_items=_lines([("1", "5")], t),
        )
        for t in ("EXEMPTOUTPUT", "INPUT")
    ]
    archived, expense = accounting.create_invoices(
        tenant, Invoices(invoices=invoices), summarize_errors=False
    ).invoices
    assert archived.validation_errors[0].message == (
        "The TaxType code 'EXEMPTOUTPUT' does not exist or cannot be used for this type of "
        "transaction."
    )
    assert expense.validation_errors[0].message == (
        "The TaxType code 'INPUT' cannot be used with account code '200'."
    )
    old_account = Invoice(
        type="ACCREC",
        contact=Contact(contact_number="HUB-1"),
        line_items=[LineItem(description="x", quantity=1.0, unit_amount=5.0, account_code="260")],
    )
    (refused,) = accounting.create_invoices(
        tenant, Invoices(invoices=[old_account]), summarize_errors=False
    ).invoices
    assert "Account code '260' has been archived" in refused.validation_errors[0].message


def test_refresh_tokens_are_single_use(xero):
    sandbox, client, _, _ = xero
    refresh = next(iter(sandbox.store.refresh_tokens))
    api = TokenApi(client, CLIENT, SECRET)
    api.refresh_token_url = f"{sandbox.url}/connect/token"
    assert api.refresh_token(refresh, ["offline_access"])["access_token"].startswith("xa-")
    with pytest.raises(Exception, match="invalid_grant"):
        api.refresh_token(refresh, ["offline_access"])
    assert sandbox.store.token_calls == 2


def test_the_minute_limit_answers_429_with_retry_after(xero):
    sandbox, _, accounting, tenant = xero
    sandbox.store.minute_limit = 3
    for _ in range(3):  # /connections is the identity API: outside the minute limit
        accounting.get_items(tenant)
    with pytest.raises(Exception) as limited:
        accounting.get_items(tenant)
    assert limited.value.status == 429
    assert limited.value.headers["X-Rate-Limit-Problem"] == "minute"
    assert int(limited.value.headers["Retry-After"]) >= 1


def test_every_answer_says_what_is_left_of_each_limit(xero):
    sandbox, _, accounting, tenant = xero
    _, _, headers = accounting.get_items(tenant, _return_http_data_only=False)
    assert (headers["X-MinLimit-Remaining"], headers["X-DayLimit-Remaining"]) == ("19", "4999")
    assert headers["X-AppMinLimit-Remaining"] == "9999"


def test_the_day_and_concurrent_limits_answer_429_naming_the_problem(xero):
    sandbox, _, accounting, tenant = xero
    sandbox.store.day_limit = 1
    accounting.get_items(tenant)
    with pytest.raises(Exception) as day:
        accounting.get_items(tenant)
    assert (day.value.status, day.value.headers["X-Rate-Limit-Problem"]) == (429, "day")
    assert 86000 < int(day.value.headers["Retry-After"]) <= 86400
    sandbox.store.day_limit, sandbox.store.concurrent_limit = 100, 0
    with pytest.raises(Exception) as concurrent:
        accounting.get_items(tenant)
    assert concurrent.value.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert "Retry-After" not in concurrent.value.headers  # Xero sends none for this one


def test_an_expired_token_gets_xeros_401(xero):
    sandbox, _, accounting, tenant = xero
    sandbox.store.tokens_expire()
    with pytest.raises(Exception) as refused:
        accounting.get_items(tenant)
    assert refused.value.status == 401
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    body = json.loads(refused.value.body)
    assert (body["Title"], body["Status"]) == ("Unauthorized", 401)
    assert re.fullmatch(
        r"TokenExpired: token expired at \d\d/\d\d/\d{4} \d\d:\d\d:\d\d", body["Detail"]
    )


def test_xeros_clock_ahead_expires_tokens_early(xero):
    sandbox, _, accounting, tenant = xero
    sandbox.store.faults = {"clock_skew": 1700}
    accounting.get_items(tenant)  # still 100 s left by Xero's clock
    sandbox.store.faults = {"clock_skew": 1800}
    with pytest.raises(Exception, match="TokenExpired"):
        accounting.get_items(tenant)


def test_a_where_clause_the_sandbox_cannot_read_is_refused(xero):
    _, _, accounting, tenant = xero
    found = accounting.get_contacts(tenant, where='Name=="A" OR (Name=="B" AND Name!=null)')
    assert found.contacts == []
    with pytest.raises(Exception) as refused:
        accounting.get_contacts(tenant, where='Name.Contains("A")')
    assert refused.value.status == 400


def test_a_planned_fault_fails_the_next_calls_to_one_operation_only(xero):
    sandbox, _, accounting, tenant = xero
    sandbox.store.fault_add(operation="PUT /Contacts", status=503, count=2)
    for _ in range(2):
        with pytest.raises(Exception) as refused:
            accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="Tran")]))
        assert refused.value.status == 503
    accounting.get_items(tenant)  # another operation answers normally meanwhile
    made = accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="Tran")]))
    assert made.contacts[0].contact_id


def test_a_fault_after_the_call_loses_only_the_answer(xero):
    sandbox, _, accounting, tenant = xero
    sandbox.store.fault_add(operation="PUT /Contacts", status=429, retry_after=3, after=True)
    with pytest.raises(Exception) as limited:
        accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="Tran")]))
    assert (limited.value.status, limited.value.headers["Retry-After"]) == (429, "3")
    found = accounting.get_contacts(tenant, where='Name=="Tran"').contacts
    assert [c.name for c in found] == ["Tran"]


def test_line_tracking_is_kept_by_name_refused_for_a_missing_option_and_added_in_the_console(
    xero,
):
    sandbox, _, accounting, tenant = xero
    categories = accounting.get_tracking_categories(tenant, include_archived=True)
    region = next(c for c in categories.tracking_categories if c.name == "Region")
    assert {o.name: code(o.status) for o in region.options}["NT"] == "ARCHIVED"
    active = accounting.get_tracking_categories(tenant).tracking_categories
    assert "NT" not in [o.name for c in active for o in c.options]
    accounting.create_contacts(tenant, Contacts(contacts=[CAFE]))

    def tracked(option: str, discount: float | None = None) -> Invoice:
        (line,) = _lines([("3", "110")], "OUTPUT")
        line.tracking = [LineItemTracking(name="region", option=option)]
        line.discount_rate = discount
        return Invoice(type="ACCREC", contact=Contact(contact_number="HUB-1"), line_items=[line])

    kept, archived, missing = accounting.create_invoices(
        tenant,
        Invoices(invoices=[tracked("nsw", 12.5), tracked("NT"), tracked("Perth")]),
        summarize_errors=False,
    ).invoices
    (kept_line,) = kept.line_items
    assert [(t.name, t.option) for t in kept_line.tracking] == [("Region", "NSW")]
    assert kept_line.tracking[0].tracking_option_id  # named, then kept with its ids
    assert (kept_line.line_amount, kept.total_tax) == (288.75, D("28.88"))  # 330 less 12.5 %
    assert [e.message for e in archived.validation_errors] == [
        "The tracking option 'NT' for tracking category 'Region' does not exist or is archived."
    ]
    assert "tracking option 'Perth'" in missing.validation_errors[0].message
    # The bookkeeper adds the option in the console; the same invoice now goes through.
    console.act(
        sandbox.store, [tenant, "tracking", region.tracking_category_id, "add"], {"option": "Perth"}
    )
    assert "Perth" in console.page(sandbox.store, [], "")
    (again,) = accounting.create_invoices(
        tenant, Invoices(invoices=[tracked("Perth")]), summarize_errors=False
    ).invoices
    assert not again.has_errors
