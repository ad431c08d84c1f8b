"""The Xero sandbox's answers validate against Xero's official OpenAPI specs.

Each row of ROWS is one request to a running sandbox over HTTP; its JSON body must match
the response schema the spec declares for that operation and status, checked as OpenAPI 3.0
with `openapi-schema-validator`. The specs are copies of shared/specs/xero (MIT, see
tests/fixtures/xero/LICENSE), so a fresh checkout needs nothing outside the repository.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import yaml
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from xero_python.accounting import Contacts
from xero_python.api_client.serializer import serialize

from connectors.base import Address
from connectors.sandbox.xero import books
from connectors.sandbox.xero.credits import credit_apply
from connectors.sandbox.xero.server import start_in_thread
from connectors.sandbox.xero.store import currency_enable
from connectors.xero.contacts import NewContact, contact_model

SPECS = Path(__file__).resolve().parents[2] / "fixtures" / "xero"
SPEC_FILES = {"accounting": "xero_accounting.yaml", "identity": "xero-identity.yaml"}
CLIENT, SECRET = "spec-client", "spec-secret"
TOKEN_FORM = {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET}
API = "/api.xro/2.0"
ACTIVE, ACCREC = quote('ContactStatus=="ACTIVE"'), quote('Type=="ACCREC"')
MS_DATE = re.compile(r"/Date\(-?\d+([+-]\d{4})?\)/")


def xero_date(text: str) -> bool:
    """Whether the text is a date: /Date(ms+0000)/ (the spec's x-is-msdate) or ISO 8601."""
    return bool(MS_DATE.fullmatch(text)) or bool(date.fromisoformat(text))


def xero_time(text: str) -> bool:
    """Whether the text is a time: /Date(ms+0000)/, or ISO 8601 (identity's have no offset)."""
    return bool(MS_DATE.fullmatch(text)) or bool(datetime.fromisoformat(text))


# OpenAPI's formats (uuid, int32, double, byte ...), with Xero's ways of writing dates.
FORMATS = FormatChecker(formats=())
FORMATS.checkers.update(oas30_format_checker.checkers)
FORMATS.checks("date", raises=ValueError)(xero_date)
FORMATS.checks("date-time", raises=ValueError)(xero_time)


@cache
def specs() -> tuple[dict, Registry]:
    """Load each spec once and register it as urn:<name>, so its "#/components" refs resolve."""
    load = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = {name: yaml.load((SPECS / f).read_text(), Loader=load) for name, f in SPEC_FILES.items()}
    registry = Registry().with_resources(
        (f"urn:{name}", Resource(doc, specification=DRAFT4)) for name, doc in docs.items()
    )
    return docs, registry


def validator(spec: str, answer: str) -> OAS30ReadValidator:
    """A validator for `answer`: "PUT /Invoices 400" (an operation's response) or a pointer."""
    docs, registry = specs()
    pointer = answer
    if not answer.startswith("#"):
        method, path, status = answer.split()
        response = docs[spec]["paths"][path][method.lower()]["responses"][status]
        escaped = path.replace("~", "~0").replace("/", "~1")
        pointer = response.get("$ref", f"#/paths/{escaped}/{method.lower()}/responses/{status}")
        pointer += "/content/application~1json/schema"
    schema = {"$ref": f"urn:{spec}{quote(pointer, safe='#/~')}"}
    return OAS30ReadValidator(schema, registry=registry, format_checker=FORMATS)


def problems(spec: str, answer: str, body) -> list[str]:
    """Return each way the body breaks the spec's schema for `answer`, as "path: message"."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(spec, answer).iter_errors(body)
    ]


def invoice(ids: dict, item_code: str = "LABOUR-HR", status: str = "DRAFT") -> dict:
    line = {"Description": "Labour", "Quantity": 2, "UnitAmount": 110, "ItemCode": item_code}
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": ids["contact"]},
        "Status": status,
        "Reference": "J-9",
        "LineItems": [dict(line, AccountCode="200")],
    }


def credit_note(ids: dict, reference: str) -> dict:
    line = {"Description": "Labour", "Quantity": 1, "UnitAmount": 20, "AccountCode": "200"}
    return {
        "Type": "ACCRECCREDIT",
        "Status": "AUTHORISED",
        "Contact": {"ContactID": ids["contact"]},
        "Reference": reference,
        "LineItems": [dict(line, TaxType="OUTPUT")],
    }


@dataclass(frozen=True)
class Row:
    """One request and the spec's answer for it."""

    name: str
    method: str
    url: str  # under the sandbox; {contact}, {invoice}, {quote} come from the fixture
    answer: str  # "PUT /Invoices 400", or a "#/components/..." pointer
    shows: str  # a field the body must have, so an empty list cannot pass
    body: Callable[[dict], dict] | None = None
    spec: str = "accounting"


ROWS = [
    Row(
        "token",
        "POST",
        "/connect/token",
        "#/components/schemas/AccessToken",
        "access_token",
        spec="identity",
    ),
    Row(
        "connections", "GET", "/connections", "GET /Connections 200", "0/tenantId", spec="identity"
    ),
    Row("contacts", "GET", f"{API}/Contacts", "GET /Contacts 200", "Contacts/0/ContactID"),
    Row(
        "active contacts, a page of 1,000 (the nightly check)",
        "GET",
        f"{API}/Contacts?where={ACTIVE}&page=1&pageSize=1000",
        "GET /Contacts 200",
        "Contacts/0/ContactID",
    ),
    Row(
        "a merged contact, read by id in a page: archived, and where it went",
        "GET",
        f"{API}/Contacts?IDs={{merged}}&includeArchived=true&page=1",
        "GET /Contacts 200",
        "Contacts/0/MergedToContactID",
    ),
    Row(
        "a merged contact, read by its own id",
        "GET",
        f"{API}/Contacts/{{merged}}",
        "GET /Contacts/{ContactID} 200",
        "Contacts/0/MergedToContactID",
    ),
    Row(
        "contact created",
        "PUT",
        f"{API}/Contacts",
        "PUT /Contacts 200",
        "Contacts/0/ContactID",
        lambda ids: {"Contacts": [{"Name": "Spec Plumbing", "EmailAddress": "p@q.example"}]},
    ),
    Row(
        "contact name taken",
        "PUT",
        f"{API}/Contacts?summarizeErrors=false",
        "PUT /Contacts 200",
        "Contacts/0/ValidationErrors/0/Message",
        lambda ids: {"Contacts": [{"Name": "Spec Cafe"}]},
    ),
    Row(
        "contacts by an OR where",
        "GET",
        f"{API}/Contacts?where=" + quote('ContactNumber=="HUB-404" OR Name=="Spec Cafe"'),
        "GET /Contacts 200",
        "Contacts/0/ContactID",
    ),
    Row(
        "contacts created in a batch",
        "PUT",
        f"{API}/Contacts?summarizeErrors=false",
        "PUT /Contacts 200",
        "Contacts/1/Addresses/0/PostalCode",
        lambda ids: {
            "Contacts": [
                {
                    "Name": "Spec Batch One",
                    "ContactNumber": "HUB-1",
                    "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "02 9999 0000"}],
                },
                {
                    "Name": "Spec Batch Two",
                    "ContactNumber": "HUB-2",
                    "EmailAddress": "b@c.example",
                    "Addresses": [
                        {
                            "AddressType": "POBOX",
                            "AddressLine1": "1 Bay St",
                            "City": "Double Bay",
                            "Region": "NSW",
                            "PostalCode": "2028",
                            "Country": "Australia",
                        }
                    ],
                },
            ]
        },
    ),
    Row("items", "GET", f"{API}/Items", "GET /Items 200", "Items/0/ItemID"),
    Row("tax rates", "GET", f"{API}/TaxRates", "GET /TaxRates 200", "TaxRates/0/CanApplyToRevenue"),
    Row("accounts", "GET", f"{API}/Accounts", "GET /Accounts 200", "Accounts/1/Class"),
    Row(
        "tracking categories, archived options too",
        "GET",
        f"{API}/TrackingCategories?includeArchived=True",  # xero-python writes True
        "GET /TrackingCategories 200",
        "TrackingCategories/0/Options/5/Status",
    ),
    Row(
        "an invoice whose lines carry tracking and a discount",
        "PUT",
        f"{API}/Invoices?summarizeErrors=false&unitdp=4",
        "PUT /Invoices 200",
        "Invoices/0/LineItems/0/Tracking/0/TrackingOptionID",
        lambda ids: {
            "Invoices": [
                dict(
                    invoice(ids),
                    LineItems=[
                        {
                            "Description": "Labour",
                            "Quantity": 3,
                            "UnitAmount": 110.0,
                            "DiscountRate": 12.5,
                            "AccountCode": "200",
                            "TaxType": "OUTPUT",
                            "Tracking": [{"Name": "Region", "Option": "NSW"}],
                        }
                    ],
                )
            ]
        },
    ),
    Row(
        "an invoice whose line names an option Xero does not have",
        "PUT",
        f"{API}/Invoices?summarizeErrors=false",
        "PUT /Invoices 200",
        "Invoices/0/ValidationErrors/0/Message",
        lambda ids: {
            "Invoices": [
                dict(
                    invoice(ids),
                    LineItems=[
                        dict(
                            invoice(ids)["LineItems"][0],
                            Tracking=[{"Name": "Region", "Option": "Atlantis"}],
                        )
                    ],
                )
            ]
        },
    ),
    Row(
        "invoices with four-decimal prices, tax included",
        "PUT",
        f"{API}/Invoices?summarizeErrors=false&unitdp=4",
        "PUT /Invoices 200",
        "Invoices/0/LineItems/0/TaxAmount",
        lambda ids: {
            "Invoices": [
                dict(
                    invoice(ids),
                    LineAmountTypes="Inclusive",
                    LineItems=[
                        {
                            "Description": "Cable (per metre)",
                            "Quantity": 1000,
                            "UnitAmount": 0.0612,
                            "AccountCode": "200",
                            "TaxType": "OUTPUT",
                        }
                    ],
                )
            ]
        },
    ),
    Row(
        "invoices, one with a bad item",
        "PUT",
        f"{API}/Invoices?summarizeErrors=false",
        "PUT /Invoices 200",
        "Invoices/1/ValidationErrors/0/Message",
        lambda ids: {"Invoices": [invoice(ids), invoice(ids, "NOPE")]},
    ),
    Row("invoices", "GET", f"{API}/Invoices", "GET /Invoices 200", "Invoices/0/InvoiceID"),
    Row(
        "sales invoices, a page of 1,000 (the nightly check)",
        "GET",
        f"{API}/Invoices?where={ACCREC}&page=1&pageSize=1000",
        "GET /Invoices 200",
        "Invoices/0/InvoiceID",
    ),
    Row(
        "one invoice",
        "GET",
        f"{API}/Invoices/{{invoice}}",
        "GET /Invoices/{InvoiceID} 200",
        "Invoices/0/LineItems/0/LineAmount",
    ),
    Row(
        "invoice refused",
        "PUT",
        f"{API}/Invoices?summarizeErrors=true",
        "PUT /Invoices 400",
        "Elements/0/ValidationErrors/0/Message",
        lambda ids: {"Invoices": [invoice(ids, "NOPE")]},
    ),
    Row(
        "invoice authorised",
        "POST",
        f"{API}/Invoices/{{invoice}}",
        "POST /Invoices/{InvoiceID} 200",
        "Invoices/0/AmountDue",
        lambda ids: {"Invoices": [{"Status": "AUTHORISED"}]},
    ),
    Row(
        "payment",
        "PUT",
        f"{API}/Payments",
        "PUT /Payments 200",
        "Payments/0/PaymentID",
        lambda ids: {
            "Payments": [
                {"Invoice": {"InvoiceID": ids["payable"]}, "Account": {"Code": "090"}, "Amount": 50}
            ]
        },
    ),
    Row("payments", "GET", f"{API}/Payments", "GET /Payments 200", "Payments/0/PaymentID"),
    Row(
        "an invoice with a credit note allocated",
        "GET",
        f"{API}/Invoices/{{credited}}",
        "GET /Invoices/{InvoiceID} 200",
        "Invoices/0/CreditNotes/0/AppliedAmount",
    ),
    Row(
        "an approved invoice's lines cannot be edited",
        "POST",
        f"{API}/Invoices/{{payable}}",
        "POST /Invoices/{InvoiceID} 400",
        "Elements/0/ValidationErrors/0/Message",
        lambda ids: {"Invoices": [{"LineItems": invoice(ids)["LineItems"]}]},
    ),
    Row("currencies", "GET", f"{API}/Currencies", "GET /Currencies 200", "Currencies/1/Code"),
    Row(
        "an invoice in a currency the organisation has not enabled",
        "PUT",
        f"{API}/Invoices?summarizeErrors=false",
        "PUT /Invoices 200",
        "Invoices/0/ValidationErrors/0/Message",
        lambda ids: {"Invoices": [dict(invoice(ids), CurrencyCode="JPY")]},
    ),
    Row(
        "an invoice in another currency the organisation has enabled, at Xero's rate",
        "PUT",
        f"{API}/Invoices?summarizeErrors=false",
        "PUT /Invoices 200",
        "Invoices/0/CurrencyRate",
        lambda ids: {"Invoices": [dict(invoice(ids), CurrencyCode="USD")]},
    ),
    Row(
        "credit note created",
        "PUT",
        f"{API}/CreditNotes?summarizeErrors=false&unitdp=4",
        "PUT /CreditNotes 200",
        "CreditNotes/0/RemainingCredit",
        lambda ids: {"CreditNotes": [credit_note(ids, "Credit for INV-9")]},
    ),
    Row(
        "credit notes by reference",
        "GET",
        f"{API}/CreditNotes?where="
        + quote('Type=="ACCRECCREDIT" AND Reference=="Credit for INV-1" AND Status!="VOIDED"'),
        "GET /CreditNotes 200",
        "CreditNotes/0/CreditNoteID",
    ),
    Row(
        "one credit note",
        "GET",
        f"{API}/CreditNotes/{{credit_note}}",
        "GET /CreditNotes/{CreditNoteID} 200",
        "CreditNotes/0/LineItems/0/LineAmount",
    ),
    Row(
        "credit note allocated",
        "PUT",
        f"{API}/CreditNotes/{{credit_note}}/Allocations?summarizeErrors=false",
        "PUT /CreditNotes/{CreditNoteID}/Allocations 200",
        "Allocations/0/Amount",
        lambda ids: {
            "Allocations": [
                {"Invoice": {"InvoiceID": ids["payable"]}, "Amount": 5, "Date": "2026-11-29"}
            ]
        },
    ),
    Row(
        "credit note allocated beyond what it has left",
        "PUT",
        f"{API}/CreditNotes/{{credit_note}}/Allocations",
        "PUT /CreditNotes/{CreditNoteID}/Allocations 400",
        "Elements/0/ValidationErrors/0/Message",
        lambda ids: {
            "Allocations": [
                {"Invoice": {"InvoiceID": ids["payable"]}, "Amount": 5000, "Date": "2026-11-29"}
            ]
        },
    ),
    Row("quotes", "GET", f"{API}/Quotes", "GET /Quotes 200", "Quotes/0/QuoteID"),
    Row(
        "one quote",
        "GET",
        f"{API}/Quotes/{{quote}}",
        "GET /Quotes/{QuoteID} 200",
        "Quotes/0/LineItems/0/ItemCode",
    ),
]


@dataclass
class Xero:
    url: str
    headers: dict
    ids: dict

    def send(self, method: str, url: str, body: dict | None = None) -> requests.Response:
        url = self.url + url.format(**self.ids)
        # The token endpoint takes a form and the client's credentials, not a bearer token.
        if url.endswith("/connect/token"):
            return requests.post(url, data=TOKEN_FORM, timeout=5)
        return requests.request(method, url, json=body, headers=self.headers, timeout=5)


def org_of(sandbox, headers: dict):
    return sandbox.store.organisations[headers["xero-tenant-id"]]


@pytest.fixture(scope="module")
def xero():
    """A sandbox holding a contact, a DRAFT invoice, a part-paid AUTHORISED invoice and one
    part credited."""
    sandbox = start_in_thread(client_id=CLIENT, client_secret=SECRET)
    token = requests.post(f"{sandbox.url}/connect/token", data=TOKEN_FORM, timeout=5)
    headers = {
        "Authorization": f"Bearer {token.json()['access_token']}",
        "xero-tenant-id": next(iter(sandbox.store.organisations)),
        "Accept": "application/json",
    }
    api = Xero(sandbox.url, headers, {})
    ids = api.ids
    cafe = {"Contacts": [{"Name": "Spec Cafe", "EmailAddress": "a@b.example"}]}
    ids["contact"] = api.send("PUT", f"{API}/Contacts", cafe).json()["Contacts"][0]["ContactID"]
    old_cafe = {"Contacts": [{"Name": "Spec Old Cafe"}]}
    ids["merged"] = api.send("PUT", f"{API}/Contacts", old_cafe).json()["Contacts"][0]["ContactID"]
    books.contact_merge(sandbox.store, org_of(sandbox, headers), ids["merged"], ids["contact"])
    three = {"Invoices": [invoice(ids), *[invoice(ids, status="AUTHORISED")] * 2]}
    made = api.send("PUT", f"{API}/Invoices", three).json()["Invoices"]
    ids["invoice"], ids["payable"], ids["credited"] = (i["InvoiceID"] for i in made)
    org = org_of(sandbox, headers)
    with sandbox.store.lock:
        credit_apply(sandbox.store, org, org.invoices[ids["credited"]], 5.0)
    payment = {"Invoice": {"InvoiceID": ids["payable"]}, "Account": {"Code": "090"}, "Amount": 10}
    assert api.send("PUT", f"{API}/Payments", {"Payments": [payment]}).ok
    ids["quote"] = next(iter(sandbox.store.organisations[headers["xero-tenant-id"]].quotes))
    note = {"CreditNotes": [credit_note(ids, "Credit for INV-1")]}
    made = api.send("PUT", f"{API}/CreditNotes", note).json()["CreditNotes"][0]
    ids["credit_note"] = made["CreditNoteID"]
    currency_enable(org, "USD", "United States Dollar", 0.65)
    yield api
    sandbox.stop()


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_the_sandbox_answers_as_the_spec_says(xero, row):
    answer = xero.send(row.method, row.url, row.body(xero.ids) if row.body else None)
    body = answer.json()
    assert answer.status_code == (200 if row.answer.startswith("#") else int(row.answer[-3:]))
    assert problems(row.spec, row.answer, body) == []
    for key in row.shows.split("/"):
        body = body[int(key)] if key.isdigit() else body[key]
    assert body not in (None, "", [])


def test_the_validator_refuses_a_body_that_breaks_the_spec():
    good = {"InvoiceID": "0d9b4f4e-2a36-4e0a-9d3c-6a1f0e6f1b2c", "Total": 242.0}
    assert problems("accounting", "GET /Invoices 200", {"Invoices": [good]}) == []
    broken = {"Invoices": [dict(good, InvoiceID="INV-1", Total="242.00")]}
    assert sorted(problems("accounting", "GET /Invoices 200", broken)) == [
        "Invoices/0/InvoiceID: 'INV-1' is not a 'uuid'",
        "Invoices/0/Total: '242.00' is not of type 'number'",
    ]
    assert problems("identity", "GET /Connections 200", [{"createdDateUtc": "yesterday"}]) == [
        "0/createdDateUtc: 'yesterday' is not a 'date-time'"
    ]
    ms_date = [{"createdDateUtc": "/Date(1732500000000+0000)/"}]
    assert problems("identity", "GET /Connections 200", ms_date) == []


def test_the_contacts_the_hub_creates_are_what_the_spec_takes():
    new = NewContact(
        "1",
        name="Spec Plumbing",
        contact_number="HUB-1",
        email="p@q.example",
        phone="02 9999 0000",
        tax_number="51 824 753 556",
        address=Address("1 Bay St", "Double Bay", "NSW", "2028", "Australia"),
    )
    body = serialize(Contacts(contacts=[contact_model(new)]))  # as xero-python sends it
    assert problems("accounting", "#/components/schemas/Contacts", body) == []
    assert body["Contacts"][0]["Addresses"][0]["AddressType"] == "POBOX"
    assert body["Contacts"][0]["Phones"][0]["PhoneNumber"] == "02 9999 0000"


def test_the_credit_notes_and_allocations_the_hub_sends_are_what_the_spec_takes():
    from xero_python.accounting import (
        Allocation,
        Allocations,
        Contact,
        CreditNotes,
        CurrencyCode,
        Invoice,
        LineAmountTypes,
        LineItem,
    )

    from connectors.xero.credits import credit_note_model

    approved = Invoice(
        invoice_id="0d9b4f4e-2a36-4e0a-9d3c-6a1f0e6f1b2c",
        invoice_number="INV-0007",
        contact=Contact(contact_id="5b1c1f3e-8d4a-4c6e-9a7b-2f3e4d5c6b7a"),
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        currency_code=CurrencyCode.USD,
        line_items=[
            LineItem(
                description="Labour",
                quantity=2.0,
                unit_amount=110.0,
                item_code="LABOUR-HR",
                account_code="200",
                tax_type="OUTPUT",
            )
        ],
    )
    # As xero-python sends it.
    body = serialize(CreditNotes(credit_notes=[credit_note_model(approved)]))
    assert problems("accounting", "#/components/schemas/CreditNotes", body) == []
    (note,) = body["CreditNotes"]
    assert (note["Type"], note["Reference"], note["CurrencyCode"]) == (
        "ACCRECCREDIT",
        "Credit for INV-0007",
        "USD",
    )
    assert "CurrencyRate" not in note  # Xero's own rate, never one the hub makes up
    allocation = Allocation(
        invoice=Invoice(invoice_id=approved.invoice_id), amount=242.0, date=date(2026, 11, 29)
    )
    body = serialize(Allocations(allocations=[allocation]))
    assert problems("accounting", "#/components/schemas/Allocations", body) == []
