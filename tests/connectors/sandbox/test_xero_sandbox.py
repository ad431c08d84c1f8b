"""The Xero sandbox speaks Xero: its answers deserialize through xero-python's own models."""

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
