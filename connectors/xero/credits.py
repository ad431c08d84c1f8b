"""An approved invoice credited in full in Xero: one credit note, allocated to it, ever.

The credit note carries the invoice's own lines (so its tax reverses the invoice's) and the
Reference "Credit for <invoice number>": before making one the hub looks it up by that
reference, so a retry after an interrupted attempt (a timeout, a killed worker, a staff
Retry) finds the one made instead of making another; the Idempotency-Key covers a request
still settling. Its allocation is looked for on the credit note the same way.
"""

from datetime import date
from decimal import Decimal

from xero_python.accounting import Allocation, Contact, CreditNote, Invoice, LineItem

from connectors.base import CreditMade
from connectors.errors import Invalid
from connectors.xero.accounting import XeroAccounting
from connectors.xero.mapping import code, money


def reference_of(invoice_number: str) -> str:
    return f"Credit for {invoice_number}"


def credit_note_model(invoice) -> CreditNote:
    return CreditNote(
        type="ACCRECCREDIT",
        status="AUTHORISED",
        contact=Contact(contact_id=invoice.contact.contact_id),
        date=date.today(),
        reference=reference_of(invoice.invoice_number),
        line_amount_types=invoice.line_amount_types,
        currency_code=invoice.currency_code,  # no rate: Xero uses its own, as on the invoice
        line_items=[
            LineItem(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                item_code=line.item_code,
                account_code=line.account_code,
                tax_type=line.tax_type,
            )
            for line in invoice.line_items or []
        ],
    )


def _refused(what: str, answer) -> Invalid:
    messages = "; ".join(e.message for e in answer.validation_errors or [])
    return Invalid(
        f"Xero would not take {what}: {messages}",
        system="xero",
        code="credit_refused",
        fix="Open the invoice in Xero and credit it by hand, or correct what Xero names, then "
        "press Retry.",
    )


def invoice_credit(xero: XeroAccounting, invoice_id: str) -> CreditMade:
    """Credit the invoice in full with one credit note allocated to it (what Xero says is
    due; the rest stays as the customer's credit), found first when already made."""
    (invoice,) = xero.invoices_by_id([invoice_id])
    reference = reference_of(invoice.invoice_number)
    found = xero.credit_notes_by_reference(reference)
    note = found[0] if found else None
    if note is None:
        note = xero.credit_note_create(
            credit_note_model(invoice), idempotency_key=f"hub-credit-{invoice_id}"
        )
        if note.has_errors:
            raise _refused(f"the credit note for invoice {invoice.invoice_number}", note)
    allocated = sum(
        (money(a.amount) for a in note.allocations or [] if a.invoice.invoice_id == invoice_id),
        Decimal("0.00"),
    )
    due, remaining = money(invoice.amount_due), money(note.remaining_credit)
    share = min(due, remaining)
    if not allocated and share > 0 and code(invoice.status) == "AUTHORISED":
        answer = xero.credit_note_allocate(
            note.credit_note_id,
            Allocation(
                invoice=Invoice(invoice_id=invoice_id), amount=float(share), date=date.today()
            ),
            idempotency_key=f"hub-allocate-{note.credit_note_id}",
        )
        if answer.validation_errors:
            raise _refused(f"credit note {note.credit_note_number}'s allocation", answer)
        allocated, remaining = share, remaining - share
    return CreditMade(
        credit_note_id=note.credit_note_id,
        number=note.credit_note_number or "",
        total=money(note.total),
        allocated=allocated,
        remaining=remaining,
        currency=str(code(invoice.currency_code)),
    )
