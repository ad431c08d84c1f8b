"""Xero as the hub's finance system: the `FinanceConnector` protocol over xero-python.

An instance reaches one organisation: `within(tenant)` names it; without a name, the
default organisation (connectors/xero/organisations.py). With none connected, every
handoff that needs Xero waits on one "Reconnect Xero" item.
"""

import re
from datetime import datetime

from xero_python.accounting import Contact, CurrencyCode, Invoice, LineAmountTypes, LineItem

from connectors.base import (
    BusinessEvent,
    CreditMade,
    CustomerDetails,
    CustomerMade,
    CustomerMoved,
    DealState,
    InvoiceDraft,
    InvoiceLine,
    InvoiceMade,
    Notice,
    Tracking,
    Value,
)
from connectors.errors import ConnectorError, Invalid
from connectors.models import InvoiceSettings
from connectors.xero.accounting import XeroAccounting
from connectors.xero.contacts import ContactMade, CustomerQuery, NewContact
from connectors.xero.credits import invoice_credit
from connectors.xero.currencies import currencies, currency_refusal
from connectors.xero.errors import refusal
from connectors.xero.mapping import (
    business_event,
    code,
    contact_changes,
    contact_details,
    contact_values,
    invoice_made,
    invoice_values,
    quote_promise,
)
from connectors.xero.organisations import connection_for, organisations_connected
from connectors.xero.polling import xero_poll
from connectors.xero.tax_setup import lines_problems, setup_refusal
from connectors.xero.terms import (
    contacts_terms,
    due_date,
    terms_known,
    terms_none,
    terms_remember,
)
from connectors.xero.tracking import line_tracking, tracking_refusals
from integration_hub import labels

SYSTEM = "xero"
BAD_ITEM_CODE = re.compile(r"Item code '([^']+)' is not valid")
CUSTOMER = {
    "billing_name": "Name",
    "billing_address": "Addresses (POBOX)",
    "tax_number": "TaxNumber",
    "contact_name": "FirstName LastName",
    "email": "EmailAddress",
    "phone": "Phones",
}
INVOICE = {
    "number": "InvoiceNumber",
    "status": "Status",
    "total": "Total",
    "amount_paid": "AmountPaid",
    "amount_due": "AmountDue",
    "last_payment_date": "FullyPaidOnDate",
}


def _hub_number(hub_id: str) -> str:
    """The ContactNumber that carries the hub's id for a customer."""
    return f"HUB-{hub_id}"


class XeroFinance:
    """Xero, as the finance system the hub's engine and flows see."""

    system = SYSTEM
    label = labels.SYSTEMS[SYSTEM]
    fields = {
        **{("customer", name): field for name, field in CUSTOMER.items()},
        **{("invoice", name): field for name, field in INVOICE.items()},
    }
    # Invoices are Xero's own: the hub writes none of their fields, it makes drafts.
    writable = frozenset(("customer", name) for name in CUSTOMER)

    def __init__(self, organisation: str = "") -> None:
        self.organisation = organisation
        self._default = ""

    def within(self, organisation: str) -> "XeroFinance":
        """This connector reaching one organisation (a tenant id; "" for the default)."""
        return XeroFinance(organisation)

    def home(self) -> str:
        """The tenant id this connector reaches (the default's when it was given none, asked
        once in this connector's life: one run's)."""
        if not self.organisation and not self._default:
            self._default = self.organisation_default()
        return self.organisation or self._default

    def _xero(self) -> XeroAccounting:
        return XeroAccounting.connected(self.organisation or None)

    # Organisations ----------------------------------------------------------------------

    def organisation_default(self) -> str:
        """The tenant id of the default organisation (raises when none can be said)."""
        return connection_for(None).tenant_id

    def organisations(self) -> dict[str, str]:
        """Every organisation connected now: tenant id → name."""
        return organisations_connected()

    # Shared fields ---------------------------------------------------------------------

    def values_read(self, record_type: str, ids: list[str]) -> dict[str, dict[str, Value]]:
        """Return each contact's or invoice's current values, 100 a call."""
        xero = self._xero()
        if record_type == "customer":
            contacts = xero.contacts_by_id(ids)
            terms_remember(contacts)  # a changed contact may have new payment terms
            # An archived contact is no longer the customer's: customers_moved says why.
            return {
                c.contact_id: contact_values(c)
                for c in contacts
                if code(c.contact_status) != "ARCHIVED"
            }
        return {i.invoice_id: invoice_values(i) for i in xero.invoices_by_id(ids)}

    def values_write(
        self, record_type: str, changes: dict[str, dict]
    ) -> dict[str, list[Notice] | ConnectorError]:
        """Change contacts' fields, 50 a call (the engine writes only customers in Xero)."""
        refused = self._xero().contacts_update(
            {contact_id: contact_changes(values) for contact_id, values in changes.items()}
        )
        return {contact_id: refused.get(contact_id, []) for contact_id in changes}

    def write_held(self, record_type: str, external_id: str, values: dict) -> Notice | None:
        """Xero takes every write at once."""
        return None

    def business_event(self, payload: dict) -> BusinessEvent | None:
        """A stored webhook (or polled) event in the hub's words."""
        return business_event(payload)

    # Customers --------------------------------------------------------------------------

    def customer_read(self, external_id: str) -> CustomerDetails:
        """Return what Xero knows of one contact."""
        (contact,) = self._xero().contacts_by_id([external_id])
        return contact_details(contact)

    def customer_candidates(self, details: CustomerDetails) -> list[CustomerDetails]:
        """Return the active contacts with the same ABN, email or name."""
        return self.customers_sought([], [details])[1][0]

    def customer_candidates_many(self, many: list[CustomerDetails]) -> list[list[CustomerDetails]]:
        """Candidates for many customers in a few calls (each customer's list, in order)."""
        return self.customers_sought([], many)[1]

    def customers_changed(self, since: datetime | None) -> list[CustomerDetails]:
        """Return the active contacts changed after `since` (all of them without it)."""
        return [contact_details(c) for c in self._xero().contacts_changed(since)]

    def customers_moved(
        self, ids: list[str], *, unless_read_lately: bool = False
    ) -> dict[str, CustomerMoved]:
        """Return the archived contacts among these, each with the contact it was merged
        into (MergedToContactID), if any; 100 a call. `unless_read_lately` leaves out the
        contacts whose terms the hub keeps (read in the last hour): an invoice batch reads
        no contact it read lately, and the contacts it does read give their terms too."""
        if unless_read_lately:
            ids = [i for i in ids if i not in terms_known(ids)]
        contacts = self._xero().contacts_by_id(ids) if ids else []
        terms_remember(contacts)  # the invoice that asked next reads the terms from here
        return {
            c.contact_id: CustomerMoved(c.contact_id, c.merged_to_contact_id or "")
            for c in contacts
            if code(c.contact_status) == "ARCHIVED"
        }

    def customers_sought(
        self, hub_ids: list[str], many: list[CustomerDetails]
    ) -> tuple[dict[str, str], list[list[CustomerDetails]]]:
        """Return hub id → ContactID for the contacts carrying the hub's ContactNumber, and
        each customer's possible contacts (in order), found together in as few calls as can
        be (XeroAccounting.contacts_sought)."""
        numbers = {_hub_number(h): h for h in hub_ids}
        queries = [CustomerQuery(str(n), d.name, d.email, d.tax_number) for n, d in enumerate(many)]
        sought = self._xero().contacts_sought(list(numbers), queries)
        return (
            {numbers[number]: contact_id for number, contact_id in sought.by_number.items()},
            [
                [contact_details(sought.contacts[c["id"]]) for c in sought.candidates[str(n)]]
                for n in range(len(many))
            ],
        )

    def customers_create(
        self, new: list[tuple[str, CustomerDetails]], *, idempotency_key: str
    ) -> list[CustomerMade]:
        """Create contacts carrying the hub's id as ContactNumber, 50 a request."""
        contacts = [
            NewContact(
                hub_id,
                name=details.name,
                contact_number=_hub_number(hub_id),
                email=details.email,
                phone=details.phone,
                tax_number=details.tax_number,
                address=details.address,
            )
            for hub_id, details in new
        ]
        made = self._xero().contacts_create(contacts, idempotency_key=idempotency_key)
        # Refused as taken: another worker's batch may have made the very contact, carrying
        # the hub's id, between this one's search and its request. That one is the customer's.
        taken = {_hub_number(m.key) for m in made if m.code == "contact_name_taken"}
        theirs = self._xero().contacts_sought(sorted(taken), []).by_number if taken else {}
        made = [
            ContactMade(m.key, theirs[_hub_number(m.key)])
            if m.refused and _hub_number(m.key) in theirs
            else m
            for m in made
        ]
        # Made with no terms of their own: their invoices read none.
        terms_none([m.contact_id for m in made if not m.refused])
        return [CustomerMade(m.key, m.contact_id, m.error() if m.refused else None) for m in made]

    # Invoices ---------------------------------------------------------------------------

    def invoices_create(
        self, drafts: list[InvoiceDraft], *, idempotency_key: str, read_ahead: list[str]
    ) -> list[InvoiceMade]:
        """Create DRAFT invoices with per-invoice answers (summarizeErrors=false).

        Account and tax types come from the invoice settings admins edit on the Xero page;
        each due date from its contact's sales terms (read 100 contacts a call, with the
        ones whose invoices come next), else the settings' default days.
        """
        xero, settings = self._xero(), InvoiceSettings.current()
        terms = contacts_terms(xero, [d.customer_id for d in drafts], soon=read_ahead)
        invoices = []
        for draft in drafts:
            day, kind = terms.get(draft.customer_id, (None, None))
            invoices.append(
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=draft.customer_id),
                    line_amount_types=(
                        LineAmountTypes.INCLUSIVE
                        if draft.prices_include_gst
                        else LineAmountTypes.EXCLUSIVE
                    ),
                    status="DRAFT",
                    reference=draft.reference,
                    currency_code=CurrencyCode(draft.currency),  # no CurrencyRate: Xero's own
                    date=draft.issued,
                    due_date=due_date(
                        issued=draft.issued,
                        day=day,
                        kind=kind,
                        default_days=settings.default_due_days,
                    ),
                    line_items=[
                        LineItem(
                            description=line.description,
                            quantity=float(line.quantity),
                            unit_amount=float(line.unit_price),
                            item_code=line.item_code or None,
                            account_code=settings.sales_account,
                            tax_type=settings.tax_type(line.tax),
                            discount_rate=float(line.discount) if line.discount else None,
                            tracking=line_tracking(draft.tracking),
                        )
                        for line in draft.lines
                    ],
                )
            )
        made = xero.invoices_create(invoices, idempotency_key=idempotency_key)
        return [
            _refused(draft, answer, xero.connection.tenant_id)
            if answer.has_errors
            else invoice_made(answer)
            for draft, answer in zip(drafts, made, strict=True)
        ]

    def invoices_by_reference(
        self, references: list[str], *, besides: frozenset[str] = frozenset()
    ) -> dict[str, InvoiceMade]:
        """Return the invoices (not voided or deleted, nor one of `besides`) whose Reference
        is one of these."""
        return {
            invoice.reference: invoice_made(invoice)
            for invoice in self._xero().invoices_by_reference(references)
            if code(invoice.status) not in ("VOIDED", "DELETED")
            and invoice.invoice_id not in besides
        }

    def invoice_read(self, invoice_id: str) -> InvoiceMade:
        """Return one invoice as Xero holds it now."""
        (invoice,) = self._xero().invoices_by_id([invoice_id])
        return invoice_made(invoice)

    def invoice_credit(self, invoice_id: str) -> CreditMade:
        """Credit the invoice in full with one allocated credit note (connectors/xero/credits)."""
        return invoice_credit(self._xero(), invoice_id)

    def invoice_currencies_check(self, jobs: dict[str, str]) -> dict[str, Exception]:
        """Each job whose currency the organisation has not enabled, with the one item its
        currency's invoices wait on; from the cache, read again before a miss is believed."""
        if not jobs:
            return {}
        xero = self._xero()
        enabled = currencies(xero)
        if set(jobs.values()) - enabled:
            enabled = currencies(xero, fresh=True)
        missing = {c for c in jobs.values() if c not in enabled}
        return {
            number: currency_refusal(currency, [n for n, c in jobs.items() if c == currency], xero)
            for number, currency in jobs.items()
            if currency in missing
        }

    def invoices_changed(self, since: datetime | None) -> list[InvoiceMade]:
        """Return the sales invoices changed after `since` (all of them without it)."""
        return [invoice_made(i) for i in self._xero().invoices_changed(since)]

    def invoices_by_id(self, invoice_ids: list[str]) -> dict[str, InvoiceMade]:
        """Return these invoices as Xero holds them now, 100 a call."""
        found = self._xero().invoices_by_id(invoice_ids)
        return {invoice.invoice_id: invoice_made(invoice) for invoice in found}

    def tracking_check(self, jobs: dict[str, tuple[Tracking, ...]]) -> dict[str, Exception]:
        """Check each job's tracking against Xero's categories and options, before anything
        is sent (connectors/xero/tracking.py): one read for every job, from the cache."""
        wanted = {number: tracking for number, tracking in jobs.items() if tracking}
        if not wanted:
            return {}
        return dict(tracking_refusals(self._xero(), wanted))

    def item_codes(self) -> list[str]:
        """Return the item codes the organisation knows."""
        return self._xero().item_codes()

    def invoice_lines_check(self, jobs: dict[str, tuple[InvoiceLine, ...]]) -> dict[str, Exception]:
        """Check each job's lines against the account and tax types the settings choose and
        what Xero allows (connectors/xero/tax_setup.py), before anything is sent: one read
        of Xero's tax rates and accounts for every job, from the cache, and again from Xero
        only when the cache shows a problem."""
        if not jobs:
            return {}
        xero = self._xero()
        found = lines_problems(xero, InvoiceSettings.current(), jobs)
        tenant = xero.connection.tenant_id
        return {number: setup_refusal(p, tenant) for number, p in found.items() if p}

    def poll(self, *, store, refused) -> dict[str, int]:
        """Read what changed since the last poll in every organisation (connectors/xero/polling)."""
        return xero_poll(store=store, refused=refused)

    def quote_state(self, quote_id: str, *, tenant: str | None = None) -> DealState:
        """Return the quote as Xero has it now, and what it promised if it is accepted."""
        xero = XeroAccounting.connected(tenant or self.organisation or None)
        quote = xero.quote_get(quote_id)
        title = f"{quote.quote_number} {quote.title or ''}".strip()
        accepted = code(quote.status) == "ACCEPTED"
        promise = None
        if accepted:
            (contact,) = xero.contacts_by_id([quote.contact.contact_id])
            settings = InvoiceSettings.current()
            promise = quote_promise(quote, contact, settings.treatments())
        return DealState(quote_id, title, code(quote.status).lower(), accepted, promise)


def _refused(draft: InvoiceDraft, answer, tenant: str) -> InvoiceMade:
    """Xero's refusal of one invoice, as the hub's error naming the problem and the fix."""
    messages = "; ".join(e.message for e in answer.validation_errors or [])
    refused, fix = refusal(messages)
    bad_codes = sorted(set(BAD_ITEM_CODE.findall(messages)))
    return InvoiceMade(
        reference=draft.reference,
        refused=Invalid(
            f"Xero would not take the invoice for job {draft.reference}: {messages}",
            system=SYSTEM,
            code=refused,
            fix=fix,
            details=(
                {"job": draft.reference, "bad_item_codes": bad_codes, "organisation": tenant}
                if bad_codes
                else {}
            ),
        ),
    )
