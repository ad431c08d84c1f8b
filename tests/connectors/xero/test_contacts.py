"""Contacts read and created many at a time, through xero-python against the sandbox."""

from urllib.parse import quote_plus

import pytest
from django.core.cache import cache

from connectors.base import Address
from connectors.calls import calls_recorded
from connectors.xero.accounting import XeroAccounting
from connectors.xero.contacts import (
    WHERE_MAX_BYTES,
    CustomerQuery,
    NewContact,
    where_chunks,
)
from connectors.xero.mapping import code

pytestmark = pytest.mark.django_db


def seed(xero, organisation, *contacts: dict) -> list[str]:
    """Put contacts in the organisation's books as a bookkeeper would; return their ids."""
    org = xero.store.organisations[organisation.tenant_id]
    ids = []
    for number, contact in enumerate(contacts):
        contact_id = f"00000000-0000-4000-8000-{number:012d}"
        org.contacts[contact_id] = {
            "ContactID": contact_id,
            "ContactStatus": "ACTIVE",
            "UpdatedDateUTC": "/Date(1732500000000+0000)/",
            **contact,
        }
        ids.append(contact_id)
    return ids


def gets(calls: list[dict]) -> list[dict]:
    return [c for c in calls if c["operation"] == "get_contacts"]


def test_contacts_are_found_by_number_in_one_read_of_a_short_list(xero, organisation):
    ids = seed(
        xero, organisation, *({"Name": f"C{n}", "ContactNumber": f"HUB-{n}"} for n in range(60))
    )
    wanted = [f"HUB-{n}" for n in range(120)]
    with calls_recorded() as calls:
        found = XeroAccounting(organisation).contacts_sought(wanted, []).by_number
    assert found == {f"HUB-{n}": ids[n] for n in range(60)}
    # Three `where` reads would do; the whole list of 60 is one.
    assert len(gets(calls)) == 1
    clauses = [[f'ContactNumber=="{n}"'] for n in sorted(wanted)]
    assert len(where_chunks(clauses)) == 3


def test_a_long_contact_list_is_searched_by_where_a_few_gets_for_many(xero, organisation):
    ids = seed(
        xero, organisation, *({"Name": f"C{n}", "ContactNumber": f"HUB-{n}"} for n in range(60))
    )
    wanted = [f"HUB-{n}" for n in range(120)]
    # As if the list had taken more pages than the `where` reads last time.
    cache.set(f"xero:contacts-pages:{organisation.tenant_id}", 9)
    with calls_recorded() as calls:
        found = XeroAccounting(organisation).contacts_sought(wanted, []).by_number
    assert found == {f"HUB-{n}": ids[n] for n in range(60)}
    assert len(gets(calls)) == 3  # not 120
    clauses = [[f'ContactNumber=="{n}"'] for n in sorted(wanted)]
    assert all(len(quote_plus(where)) <= WHERE_MAX_BYTES for where in where_chunks(clauses))


def test_possible_contacts_of_many_customers_are_found_in_one_call(xero, organisation):
    ids = seed(
        xero,
        organisation,
        {"Name": "Harbour View Cafe Pty Ltd", "TaxNumber": "51 824 753 556"},
        {"Name": "Bondi Physiotherapy", "EmailAddress": "Accounts@BondiPhysio.example"},
        {"Name": "greenway dental", "EmailAddress": "office@greenway.example"},
        {"Name": "Kestrel Lighting", "ContactStatus": "ARCHIVED"},
        {"Name": "Someone Else", "EmailAddress": "nobody@else.example"},
    )
    customers = [
        CustomerQuery("1", "Harbour View Cafe", "cafe@harbour.example", "51824753556"),
        CustomerQuery("2", "Bondi Physio", "accounts@bondiphysio.example"),
        CustomerQuery("3", "Greenway Dental", "office@greenway.example", "12 345"),
        CustomerQuery("4", "Kestrel Lighting"),
        CustomerQuery("5", 'The "Quoted" Co', "new@quoted.example"),
    ]
    with calls_recorded() as calls:
        found = XeroAccounting(organisation).contacts_sought([], customers).candidates
    assert found == {
        "1": [{"id": ids[0], "name": "Harbour View Cafe Pty Ltd", "why": "same ABN"}],
        "2": [{"id": ids[1], "name": "Bondi Physiotherapy", "why": "same email"}],
        "3": [{"id": ids[2], "name": "greenway dental", "why": "same email, same name"}],
        "4": [],  # archived contacts are not candidates
        "5": [],
    }
    assert len(gets(calls)) == 1


def new_contacts(count: int) -> list[NewContact]:
    return [
        NewContact(
            key=str(n),
            name=f"Customer {n}",
            contact_number=f"HUB-{n}",
            email=f"c{n}@example.com",
            phone="02 9999 0000",
            tax_number="51 824 753 556",
            address=Address(f"{n} Bay St", "Double Bay", "NSW", "2028", "Australia"),
        )
        for n in range(count)
    ]


def test_contacts_are_created_fifty_to_a_request_each_with_its_id_or_refusal(xero, organisation):
    seed(xero, organisation, {"Name": "Customer 7"})  # its name is taken
    new = new_contacts(60)
    new[12] = NewContact(key="12", name="", contact_number="HUB-12")
    xero_api = XeroAccounting(organisation)
    with calls_recorded() as calls:
        made = xero_api.contacts_create(new, idempotency_key="hub-contacts-test")
    assert [c["operation"] for c in calls] == ["create_contacts", "create_contacts"]
    assert [m.key for m in made] == [str(n) for n in range(60)]
    refused = {m.key: (m.code, m.refused) for m in made if m.refused}
    assert refused == {"7": ("contact_name_taken", True), "12": ("missing_field", True)}
    assert "rename one of them in Xero" in made[7].fix and made[7].error().code == made[7].code
    first = xero.store.organisations[organisation.tenant_id].contacts[made[0].contact_id]
    assert first["Phones"] == [{"PhoneType": "DEFAULT", "PhoneNumber": "02 9999 0000"}]
    assert first["Addresses"] == [
        {
            "AddressType": "POBOX",
            "AddressLine1": "0 Bay St",
            "City": "Double Bay",
            "Region": "NSW",
            "PostalCode": "2028",
            "Country": "Australia",
        }
    ]
    assert (first["EmailAddress"], first["ContactNumber"]) == ("c0@example.com", "HUB-0")
    # A retry (the answer was lost) replays Xero's answers: no second contact for anyone.
    books = xero.store.organisations[organisation.tenant_id].contacts
    count = len(books)
    again = xero_api.contacts_create(new, idempotency_key="hub-contacts-test")
    assert [m.contact_id for m in again] == [m.contact_id for m in made]
    assert len(books) == count


def test_a_created_contact_reads_back_through_the_sdk(xero, organisation):
    xero_api = XeroAccounting(organisation)
    (made,) = xero_api.contacts_create(new_contacts(1), idempotency_key="hub-one")
    (contact,) = xero_api.contacts_by_id([made.contact_id])
    assert code(contact.contact_status) == "ACTIVE"
    assert contact.phones[0].phone_number == "02 9999 0000"
    assert (contact.addresses[0].city, contact.addresses[0].postal_code) == ("Double Bay", "2028")
