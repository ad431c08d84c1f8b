"""Credit notes in the sandbox: made (ACCRECCREDIT), read, and allocated to invoices, as
Xero keeps them (RemainingCredit, the invoice's AmountCredited and AmountDue)."""

import uuid
from decimal import Decimal

from connectors.sandbox.xero.books import (
    batch_answer,
    contact_for,
    line_errors,
    public,
    refused,
    unit_places,
)
from connectors.sandbox.xero.store import Organisation, Store, xero_date


def _errors(org: Organisation, note: dict) -> list[str]:
    errors = []
    if note.get("Type") not in ("ACCRECCREDIT", "ACCPAYCREDIT"):
        errors.append("Credit Note Type must be ACCRECCREDIT or ACCPAYCREDIT.")
    contact = contact_for(org, note.get("Contact") or {})
    if contact is None:
        errors.append("A Contact must be specified for this type of transaction.")
    if note.get("Status", "DRAFT") not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
        errors.append(f"A credit note cannot be created as {note['Status']}.")
    if note.get("CurrencyCode", org.base_currency) not in org.currencies:
        errors.append(currency_error(note["CurrencyCode"]))
    if not note.get("LineItems"):
        errors.append("A credit note must have at least one line item.")
    for line in note.get("LineItems") or []:
        errors += line_errors(org, line)
    return errors


def currency_error(code: str) -> str:
    return f"The currency code '{code}' is not enabled for this organisation."


def _saved(store: Store, org: Organisation, note: dict, unitdp: int) -> dict:
    unit_places(note.get("LineItems") or [], unitdp)
    contact = contact_for(org, note["Contact"])
    code = note.get("CurrencyCode", org.base_currency)
    record = {
        "CreditNoteID": str(uuid.uuid4()),
        "CreditNoteNumber": f"CN-{next(org.credit_note_numbers):04d}",
        "Status": "DRAFT",
        "LineAmountTypes": "Exclusive",
        "Date": xero_date(),
        "Allocations": [],
        "_tenant": org.tenant_id,
        **note,
        "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]},
        "CurrencyCode": code,
        # Xero uses its own rate when none is given (1 for the base currency).
        "CurrencyRate": note.get("CurrencyRate") or org.currencies[code]["_rate"],
        "UpdatedDateUTC": xero_date(),
    }
    store.invoice_total(record)
    record["RemainingCredit"] = record.pop("AmountDue")
    org.credit_notes[record["CreditNoteID"]] = record
    store.changed(org, "CREDITNOTE", record["CreditNoteID"], "CREATE")
    return record


def credit_notes_save(store: Store, org: Organisation, notes: list[dict], summarize: bool, unitdp):
    """Validate and make credit notes the way Xero does (summarizeErrors as for invoices)."""
    results, failed = [], False
    with store.lock:
        for note in notes:
            errors = _errors(org, note)
            if errors:
                failed = True
                results.append(refused(note, errors, HasErrors=True))
            else:
                saved = public(_saved(store, org, note, unitdp))
                results.append(dict(saved, StatusAttributeString="OK"))
    return batch_answer(results, failed, summarize, "CreditNotes")


def _allocation_errors(org: Organisation, note: dict, allocation: dict) -> list[str]:
    invoice = org.invoices.get((allocation.get("Invoice") or {}).get("InvoiceID", ""))
    amount = Decimal(str(allocation.get("Amount", 0)))
    if invoice is None:
        return ["Invoice could not be found."]
    if note["Status"] != "AUTHORISED":
        return [f"A credit note that is {note['Status']} cannot be allocated."]
    if invoice["Status"] != "AUTHORISED":
        return [f"A credit note cannot be allocated to an invoice that is {invoice['Status']}."]
    if invoice["Contact"]["ContactID"] != note["Contact"]["ContactID"]:
        return ["The credit note and the invoice must be for the same contact."]
    if invoice.get("CurrencyCode") != note.get("CurrencyCode"):
        return ["The credit note and the invoice must be in the same currency."]
    if amount <= 0:
        return ["Allocation amount must be greater than zero."]
    if amount > Decimal(str(note["RemainingCredit"])):
        return ["The amount being allocated exceeds the remaining credit on the credit note."]
    if amount > Decimal(str(invoice["AmountDue"])):
        return ["The amount being allocated exceeds the amount due on the invoice."]
    return []


def allocate(store: Store, org: Organisation, note: dict, invoice: dict, amount: float) -> dict:
    """Allocate part of a credit note to an invoice: both are brought up to date."""
    from connectors.sandbox.xero.money import settle

    stamp = xero_date()
    allocation = {
        "AllocationID": str(uuid.uuid4()),
        "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"]},
        "Amount": amount,
        "Date": stamp,
    }
    note["Allocations"].append(allocation)
    remaining = Decimal(str(note["RemainingCredit"])) - Decimal(str(amount))
    note["RemainingCredit"] = float(remaining)
    if remaining <= 0:
        note["Status"] = "PAID"
        note["FullyPaidOnDate"] = stamp
    note["UpdatedDateUTC"] = stamp
    invoice.setdefault("CreditNotes", []).append(
        {
            "CreditNoteID": note["CreditNoteID"],
            "CreditNoteNumber": note["CreditNoteNumber"],
            "Total": note["Total"],
            "AppliedAmount": amount,
        }
    )
    settle(store, org, invoice, "AmountCredited", amount, stamp)
    store.changed(org, "CREDITNOTE", note["CreditNoteID"], "UPDATE")
    return allocation


def allocations_save(store: Store, org: Organisation, note_id: str, body: dict, summarize: bool):
    """PUT /CreditNotes/{id}/Allocations: allocate the credit note to invoices."""
    results, failed = [], False
    with store.lock:
        note = org.credit_notes.get(note_id)
        if note is None:
            return 404, {"Title": "Not Found", "Status": 404}
        for each in body.get("Allocations", []):
            errors = _allocation_errors(org, note, each)
            if errors:
                failed = True
                results.append(refused(each, errors))
                continue
            invoice = org.invoices[each["Invoice"]["InvoiceID"]]
            made = allocate(store, org, note, invoice, float(each["Amount"]))
            results.append(dict(made, CreditNote={"CreditNoteID": note_id}))
    return batch_answer(results, failed, summarize, "Allocations")


def credit_apply(store: Store, org: Organisation, invoice: dict, amount: float) -> dict:
    """A bookkeeper's credit of `amount` on the invoice: a credit note made and allocated."""
    line = {"Description": f"Credit on {invoice['InvoiceNumber']}", "Quantity": 1}
    line |= {"UnitAmount": amount, "AccountCode": "200", "TaxType": "BASEXCLUDED"}
    note = {
        "Type": "ACCRECCREDIT",
        "Status": "AUTHORISED",
        "Contact": invoice["Contact"],
        "CurrencyCode": invoice.get("CurrencyCode", org.base_currency),
        "LineItems": [line],
    }
    record = _saved(store, org, note, 4)
    allocate(store, org, record, invoice, amount)
    return record
