"""The Xero sandbox speaks Xero: its answers deserialize through xero-python's own models."""

import json
import re

import pytest
from xero_python.accounting import (
    AccountingApi,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
)
from xero_python.api_client.oauth2 import TokenApi
from xero_python.identity import IdentityApi

from connectors.sandbox.xero.server import start_in_thread
from connectors.xero.client import api_client

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
    _, _, accounting, tenant = xero
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


def test_items_and_tax_rates_deserialize(xero):
    _, _, accounting, tenant = xero
    assert "HWS-250L" in [i.code for i in accounting.get_items(tenant).items]
    assert [t.tax_type for t in accounting.get_tax_rates(tenant).tax_rates][0] == "OUTPUT"


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
