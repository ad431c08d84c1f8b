"""Payments and quotes in the sandbox, and Xero's If-Modified-Since reads."""

import re
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from connectors.sandbox.xero.books import batch_answer, refused
from connectors.sandbox.xero.store import Organisation, Store, xero_date

MS_DATE = re.compile(r"/Date\((\d+)")
QUOTE_FLOW = {
    "DRAFT": {"SENT", "DELETED"},
    "SENT": {"ACCEPTED", "DECLINED", "DRAFT", "DELETED"},
    "DECLINED": {"SENT", "DELETED"},
    "ACCEPTED": {"INVOICED", "SENT"},
    "INVOICED": set(),
    "DELETED": set(),
}


def modified_since(records, header: str | None) -> list[dict]:
    """Keep the records changed after the If-Modified-Since time (ISO 8601, UTC if naive)."""
    if not header:
        return list(records)
    since = datetime.fromisoformat(header.replace("Z", "+00:00"))
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    cutoff_ms = since.timestamp() * 1000
    return [r for r in records if int(MS_DATE.match(r["UpdatedDateUTC"])[1]) > cutoff_ms]


def _payment_errors(org: Organisation, payment: dict) -> tuple[dict | None, list[str]]:
    invoice = org.invoices.get((payment.get("Invoice") or {}).get("InvoiceID", ""))
    if invoice is None:
        return None, ["Invoice could not be found."]
    if invoice["Status"] != "AUTHORISED":
        return invoice, [f"Payment cannot be applied to an invoice that is {invoice['Status']}."]
    amount = Decimal(str(payment.get("Amount", 0)))
    if amount <= 0:
        return invoice, ["Payment amount must be greater than zero."]
    if amount > Decimal(str(invoice["AmountDue"])):
        return invoice, ["Payment amount exceeds the amount outstanding on this document."]
    return invoice, []


def payments_save(store: Store, org: Organisation, payments: list[dict], summarize: bool):
    """Apply payments to AUTHORISED invoices; an invoice paid in full becomes PAID."""
    results, failed = [], False
    with store.lock:
        for payment in payments:
            invoice, errors = _payment_errors(org, payment)
            if errors:
                failed = True
                results.append(refused(payment, errors, HasValidationErrors=True))
                continue
            results.append(
                dict(payment_apply(store, org, invoice, payment), StatusAttributeString="OK")
            )
    return batch_answer(results, failed, summarize, "Payments")


def payment_apply(store: Store, org: Organisation, invoice: dict, payment: dict) -> dict:
    """Record one valid payment against its invoice and return the payment."""
    stamp = xero_date()
    amount = float(payment["Amount"])
    record = {
        "PaymentID": str(uuid.uuid4()),
        "Date": payment.get("Date") or xero_date(),
        "Amount": amount,
        "PaymentType": "ACCRECPAYMENT",
        "Status": "AUTHORISED",
        "Reference": payment.get("Reference", ""),
        "Account": payment.get("Account") or {"Code": "090"},
        "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"]},
        "UpdatedDateUTC": stamp,
    }
    org.payments[record["PaymentID"]] = record
    invoice.setdefault("Payments", []).append(
        {"PaymentID": record["PaymentID"], "Date": record["Date"], "Amount": amount}
    )
    settle(store, org, invoice, "AmountPaid", amount, record["Date"])
    return record


def settle(
    store: Store, org: Organisation, invoice: dict, field: str, amount: float, day: str
) -> None:
    """Add a payment or credit to the invoice; one left with nothing due is PAID (in Xero a
    fully credited invoice is PAID too, with AmountPaid 0)."""
    invoice[field] = float(Decimal(str(invoice.get(field, 0))) + Decimal(str(amount)))
    store.invoice_total(invoice)
    if invoice["AmountDue"] <= 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = day
    invoice["UpdatedDateUTC"] = xero_date()
    store.changed(org, "INVOICE", invoice["InvoiceID"], "UPDATE")


def quote_status(store: Store, org: Organisation, quote_id: str, status: str) -> dict:
    """Move a quote along Xero's flow (DRAFT → SENT → ACCEPTED/DECLINED)."""
    with store.lock:
        quote = org.quotes[quote_id]
        if status not in QUOTE_FLOW[quote["Status"]]:
            raise ValueError(f"A {quote['Status']} quote cannot become {status}.")
        quote["Status"] = status
        quote["UpdatedDateUTC"] = xero_date(time.time())
        return quote
