"""The Xero sandbox's answers validate against Xero's official OpenAPI spec.

Each request below goes to a running sandbox over HTTP; its JSON body is checked against
the response schema the spec (shared/specs/xero/xero_accounting.yaml, MIT) gives for it.
"""

from functools import cache
from pathlib import Path

import pytest
import requests
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from connectors.sandbox.xero.server import start_in_thread

# A copy of shared/specs/xero/xero_accounting.yaml (MIT: see tests/fixtures/xero/LICENSE).
SPEC = Path(__file__).parents[2] / "fixtures" / "xero" / "xero_accounting.yaml"
API = "/api.xro/2.0"


@cache
def validator(schema: str) -> Draft7Validator:
    """A validator for one of the spec's component schemas, its $refs resolved in the spec."""
    spec = yaml.load(SPEC.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    registry = Registry().with_resource("urn:xero", Resource(spec, specification=DRAFT7))
    return Draft7Validator({"$ref": f"urn:xero#/components/schemas/{schema}"}, registry=registry)


@pytest.fixture(scope="module")
def xero():
    sandbox = start_in_thread(client_id="spec", client_secret="spec-secret")
    token = sandbox.store.issue_tokens()["access_token"]
    tenant = next(iter(sandbox.store.organisations))
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "Accept": "application/json"}
    )
    yield sandbox, session
    sandbox.stop()


def call(xero, method: str, path: str, body: dict | None = None) -> requests.Response:
    sandbox, session = xero
    return session.request(method, f"{sandbox.url}{API}{path}", json=body, timeout=5)


def invoice(contact_id: str, item_code: str = "LABOUR-HR") -> dict:
    return {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "Status": "DRAFT",
            "Reference": "J-9", "LineItems": [{"Description": "Labour", "Quantity": 2,
            "UnitAmount": 110, "ItemCode": item_code, "AccountCode": "200"}]}  # fmt: skip


def test_every_answer_the_hub_relies_on_matches_the_spec(xero):
    cafe = {"Contacts": [{"Name": "Spec Cafe", "EmailAddress": "a@b.example"}]}
    contact = call(xero, "PUT", "/Contacts?summarizeErrors=false", cafe)
    contact_id = contact.json()["Contacts"][0]["ContactID"]
    both = {"Invoices": [invoice(contact_id), invoice(contact_id, "NOPE")]}
    made = call(xero, "PUT", "/Invoices?summarizeErrors=false", both)
    invoice_id = made.json()["Invoices"][0]["InvoiceID"]
    call(xero, "POST", f"/Invoices/{invoice_id}", {"Invoices": [{"Status": "AUTHORISED"}]})
    payment = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Amount": 100}
    paid = call(xero, "PUT", "/Payments", {"Payments": [payment]})
    quote_id = next(iter(next(iter(xero[0].store.organisations.values())).quotes))
    answers = [
        (contact, "Contacts"),
        (call(xero, "PUT", "/Contacts?summarizeErrors=false", cafe), "Contacts"),
        (call(xero, "GET", "/Contacts"), "Contacts"),
        (made, "Invoices"),
        (call(xero, "GET", "/Invoices"), "Invoices"),
        (call(xero, "GET", f"/Invoices/{invoice_id}"), "Invoices"),
        (paid, "Payments"),
        (call(xero, "GET", "/Payments"), "Payments"),
        (call(xero, "GET", "/Quotes"), "Quotes"),
        (call(xero, "GET", f"/Quotes/{quote_id}"), "Quotes"),
        (call(xero, "GET", "/Items"), "Items"),
        (call(xero, "GET", "/TaxRates"), "TaxRates"),
        (call(xero, "PUT", "/Invoices", {"Invoices": [invoice(contact_id, "NOPE")]}), "Error"),
    ]
    for answer, schema in answers:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(schema).iter_errors(answer.json())
        ]
        assert errors == [], f"{answer.request.method} {answer.request.url} vs {schema}"
    assert [a.status_code for a, _ in answers] == [200] * 12 + [400]


def test_the_validator_refuses_a_body_that_breaks_the_spec():
    broken = {"Invoices": [{"InvoiceID": "x", "Total": "a lot", "LineItems": "none"}]}
    assert len(list(validator("Invoices").iter_errors(broken))) == 2
