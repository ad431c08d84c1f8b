"""Xero's rules for the records the hub writes: contacts and invoices."""

import re
import uuid
from decimal import ROUND_HALF_UP, Decimal

from connectors.sandbox.xero import tracking
from connectors.sandbox.xero.store import Organisation, Store, allows, xero_date

STATUS_FLOW = {
    "DRAFT": {"SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"AUTHORISED", "DRAFT", "DELETED"},
    "AUTHORISED": {"PAID", "VOIDED"},
    "PAID": set(),
    "VOIDED": set(),
    "DELETED": set(),
}
# What an invoice may have changed only while it is a draft (or submitted).
EDITABLE_UNTIL_APPROVED = {"LineItems", "Contact", "CurrencyCode", "LineAmountTypes"}
# A `where` clause's words: strings, comparisons, AND/OR (or && ||), brackets, field names.
WHERE_TOKEN = re.compile(r'\s*("[^"]*"|==|!=|&&|\|\||\(|\)|[A-Za-z_][\w.]*)')


def public(record: dict) -> dict:
    """Return the record as Xero shows it, without the sandbox's own bookkeeping."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _where(text: str):
    """Parse Xero's `where`: equality tests joined by AND / OR with brackets, as a predicate.

    The subset the hub sends (Xero takes a C# expression); anything else is refused, so a
    request the sandbox does not understand fails loudly instead of matching everything.
    """
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = WHERE_TOKEN.match(text, position)
        if not match:
            raise ValueError(f"The where clause cannot be read at: {text[position:]!r}")
        tokens.append(match[1])
        position = match.end()
    tokens.append("")

    def take(*wanted: str) -> str:
        if (wanted and tokens[0].upper() not in wanted) or (not wanted and not tokens[0]):
            found = repr(tokens[0]) if tokens[0] else "nothing"
            fits = " or ".join(repr(w) if w else "the end" for w in wanted) or "a name or value"
            raise ValueError(f"The where clause {text!r} has {found} where {fits} should be.")
        return tokens.pop(0)

    def either():
        parts = [both()]
        while tokens[0].upper() in ("OR", "||"):
            take()
            parts.append(both())
        return lambda row: any(part(row) for part in parts)

    def both():
        parts = [test()]
        while tokens[0].upper() in ("AND", "&&"):
            take()
            parts.append(test())
        return lambda row: all(part(row) for part in parts)

    def test():
        if tokens[0] == "(":
            take()
            inner = either()
            take(")")
            return inner
        field, operator, value = take(), take("==", "!="), take()
        if value.lower() == "null":
            wanted = None
        elif value.startswith('"'):
            wanted = value[1:-1].lower()
        else:
            raise ValueError(f"The where clause compares {field} with {value!r}, not a string.")

        def holds(row: dict) -> bool:
            found = row.get(field)
            same = found is None if wanted is None else str(found or "").lower() == wanted
            return same if operator == "==" else not same

        return holds

    predicate = either()
    take("")
    return predicate


def filtered(records, query: dict) -> list[dict]:
    """Apply Xero's `where` clause, `IDs` and `Statuses` filters."""
    rows = list(records)
    if query.get("where"):
        matches = _where(query["where"][0])
        rows = [r for r in rows if matches(r)]
    if query.get("IDs"):
        ids = set(query["IDs"][0].split(","))
        rows = [r for r in rows if (r.get("InvoiceID") or r.get("ContactID")) in ids]
    if query.get("Statuses"):
        wanted = set(query["Statuses"][0].split(","))
        rows = [r for r in rows if r.get("Status") in wanted]
    return [public(r) for r in rows]


def contacts_listed(rows: list[dict], query: dict) -> list[dict]:
    """Xero's list of contacts: archived ones only with includeArchived=true, and where a
    merged one went (MergedToContactID) only in a paged read (the spec's words)."""
    if str(query.get("includeArchived", [""])[0]).lower() != "true":
        rows = [r for r in rows if r.get("ContactStatus") != "ARCHIVED"]
    if "page" not in query:
        rows = [{k: v for k, v in r.items() if k != "MergedToContactID"} for r in rows]
    return rows


def contact_archive(store: Store, org: Organisation, contact_id: str) -> None:
    """The bookkeeper archives a contact: it stays, ARCHIVED, and takes no new invoices."""
    contact = org.contacts[contact_id]
    contact.update(ContactStatus="ARCHIVED", UpdatedDateUTC=xero_date())
    store.changed(org, "CONTACT", contact_id, "UPDATE")


def contact_merge(store: Store, org: Organisation, merged_id: str, into_id: str) -> None:
    """The bookkeeper merges one contact into another, as Xero does: its transactions move
    to the surviving contact, and it is archived with MergedToContactID naming the survivor."""
    merged, survivor = org.contacts[merged_id], org.contacts[into_id]
    if merged is survivor or survivor["ContactStatus"] != "ACTIVE":
        raise ValueError("A contact merges only into another, active contact.")
    for record in (*org.invoices.values(), *org.quotes.values()):
        if record.get("Contact", {}).get("ContactID") == merged_id:
            record["Contact"] = {"ContactID": into_id, "Name": survivor["Name"]}
    stamp = xero_date()
    merged.update(ContactStatus="ARCHIVED", MergedToContactID=into_id, UpdatedDateUTC=stamp)
    survivor["UpdatedDateUTC"] = stamp
    store.changed(org, "CONTACT", merged_id, "UPDATE")
    store.changed(org, "CONTACT", into_id, "UPDATE")


def _contact_errors(org: Organisation, contact: dict) -> list[str]:
    """Xero's uniqueness rules: a name among active contacts, a ContactNumber among all."""
    name = (contact.get("Name") or "").strip()
    if not name and not contact.get("ContactID"):
        return ["The contact name must be supplied."]
    number = (contact.get("ContactNumber") or "").strip()
    for other in org.contacts.values():
        if (
            number
            and (other.get("ContactNumber") or "").lower() == number.lower()
            and other["ContactID"] != contact.get("ContactID")
        ):
            return [
                f"The contact number {number} is already assigned to another contact. The "
                "contact number must be unique across all contacts."
            ]
        if (
            name
            and other.get("Name", "").lower() == name.lower()
            and other["ContactStatus"] == "ACTIVE"
            and other["ContactID"] != contact.get("ContactID")
        ):
            return [
                f"The contact name {name} is already assigned to another contact. The contact "
                "name must be unique across all active contacts."
            ]
    return []


def _invoice_errors(org: Organisation, invoice: dict, existing: dict | None) -> list[str]:
    errors = []
    if existing:
        wanted = invoice.get("Status", existing["Status"])
        if wanted != existing["Status"] and wanted not in STATUS_FLOW[existing["Status"]]:
            errors.append(
                f"Invoice not of valid status for modification ({existing['Status']} to {wanted})."
            )
        edits = set(invoice) & EDITABLE_UNTIL_APPROVED
        if edits and existing["Status"] not in ("DRAFT", "SUBMITTED"):
            # Xero: an approved invoice's lines, contact or currency cannot be changed.
            allocated = existing.get("Payments") or existing.get("CreditNotes")
            errors.append(
                "This document cannot be edited as it has a payment or credit note allocated to it."
                if allocated
                else "Invoice not of valid status for modification"
            )
        return errors
    code = invoice.get("CurrencyCode") or org.base_currency
    if code not in org.currencies:
        errors.append(f"The currency code '{code}' is not enabled for this organisation.")
    if invoice.get("Type") not in ("ACCREC", "ACCPAY"):
        errors.append("Invoice Type must be ACCREC or ACCPAY.")
    contact = contact_for(org, invoice.get("Contact") or {})
    if contact is None:
        errors.append("A Contact must be specified for this type of transaction.")
    elif contact["ContactStatus"] != "ACTIVE":
        errors.append(f"The contact {contact['Name']} is archived; it cannot be used.")
    if invoice.get("LineAmountTypes", "Exclusive") not in ("Exclusive", "Inclusive", "NoTax"):
        errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax.")
    for line in invoice.get("LineItems") or []:
        errors += line_errors(org, line)
    if not invoice.get("LineItems"):
        errors.append("An invoice must have at least one line item.")
    return errors


def line_errors(org: Organisation, line: dict) -> list[str]:
    """A line's item, account and tax type, checked as Xero does; a line without a tax type
    gets its account's (or its item's) default."""
    errors = []
    item = org.items.get(line.get("ItemCode") or "")
    if line.get("ItemCode") and item is None:
        errors.append(f"Item code '{line['ItemCode']}' is not valid.")
    code = line.get("AccountCode") or ((item or {}).get("SalesDetails") or {}).get("AccountCode")
    account = org.accounts.get(code or "")
    if code and account is None:
        errors.append(f"Account code '{code}' is not a valid code for this document.")
    elif account and account["Status"] != "ACTIVE":
        errors.append(
            f"Account code '{code}' has been archived, or has been deleted. Each line item "
            "must reference a valid account."
        )
    line.setdefault("TaxType", (account or {}).get("TaxType") or "OUTPUT")
    rate = org.tax_rates.get(line["TaxType"])
    if rate is None or rate["Status"] != "ACTIVE":
        errors.append(
            f"The TaxType code '{line['TaxType']}' does not exist or cannot be used for this "
            "type of transaction."
        )
    elif account and not allows(rate, account):
        errors.append(
            f"The TaxType code '{line['TaxType']}' cannot be used with account code '{code}'."
        )
    discount = line.get("DiscountRate")
    if discount is not None and not 0 <= Decimal(str(discount)) <= 100:
        errors.append("The discount rate must be between 0 and 100.")
    return errors + tracking.line_errors(org.tracking_categories, line)


def contact_for(org: Organisation, ref: dict) -> dict | None:
    if ref.get("ContactID"):
        return org.contacts.get(ref["ContactID"])
    for contact in org.contacts.values():
        if ref.get("ContactNumber") and contact.get("ContactNumber") == ref["ContactNumber"]:
            return contact
    return None


def unit_places(lines: list[dict], unitdp: int) -> None:
    """Xero keeps unit prices to two decimal places, or four with unitdp=4, and quantities
    to four; more is rounded (halves up)."""
    for line in lines:
        for field, places in (("UnitAmount", 4 if unitdp == 4 else 2), ("Quantity", 4)):
            if field in line:
                exact = Decimal(str(line[field]))
                line[field] = float(exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def _saved(store: Store, org: Organisation, kind: str, element: dict, unitdp: int) -> dict:
    """Store a valid element and return it as saved."""
    stamp = xero_date()
    if kind == "Contacts":
        record = org.contacts.get(element.get("ContactID", "")) or {
            "ContactID": str(uuid.uuid4()),
            "ContactStatus": "ACTIVE",
        }
        record.update(element, UpdatedDateUTC=stamp)
        org.contacts[record["ContactID"]] = record
        return record
    unit_places(element.get("LineItems") or [], unitdp)
    for line in element.get("LineItems") or []:
        tracking.line_saved(org.tracking_categories, line, kept=org.tracking_kept)
    record = org.invoices.get(element.get("InvoiceID", ""))
    if record is None:
        contact = contact_for(org, element["Contact"])
        record = {
            "InvoiceID": str(uuid.uuid4()),
            "Status": "DRAFT",
            "AmountPaid": 0.0,
            "AmountCredited": 0.0,
            "InvoiceNumber": f"INV-{next(org.invoice_numbers):04d}",
            "_tenant": org.tenant_id,
            "LineAmountTypes": "Exclusive",
            "CurrencyCode": org.base_currency,
        }
        record.update(element, Contact={"ContactID": contact["ContactID"], "Name": contact["Name"]})
        # With no rate given Xero uses its own for the day (1 for the base currency).
        record.setdefault("CurrencyRate", org.currencies[record["CurrencyCode"]]["_rate"])
    else:
        record.update({k: v for k, v in element.items() if k != "InvoiceID"})
    record["UpdatedDateUTC"] = stamp
    store.invoice_total(record)
    org.invoices[record["InvoiceID"]] = record
    return record


def save_many(
    store: Store,
    org: Organisation,
    kind: str,
    elements: list[dict],
    summarize: bool,
    unitdp: int = 2,
):
    """Validate and save a batch the way Xero does, including its summarizeErrors trap."""
    results, failed = [], False
    with store.lock:
        for element in elements:
            if kind == "Contacts":
                errors = _contact_errors(org, element)
            else:
                errors = _invoice_errors(
                    org, element, org.invoices.get(element.get("InvoiceID", ""))
                )
            if errors:
                failed = True
                # Contacts say HasValidationErrors, invoices HasErrors (Xero's spec).
                flag = "HasValidationErrors" if kind == "Contacts" else "HasErrors"
                results.append(
                    dict(
                        element,
                        StatusAttributeString="ERROR",
                        ValidationErrors=[{"Message": m} for m in errors],
                        **{flag: True},
                    )
                )
            else:
                created = not element.get(kind[:-1] + "ID")
                saved = public(_saved(store, org, kind, element, unitdp))
                results.append(dict(saved, StatusAttributeString="OK"))
                category, resource = kind[:-1].upper(), saved[kind[:-1] + "ID"]
                store.changed(org, category, resource, "CREATE" if created else "UPDATE")
    if failed and summarize:
        # Xero's trap: 400, yet the valid elements were saved, without their ids.
        elements_out = [r if r["StatusAttributeString"] == "ERROR" else {} for r in results]
        return 400, {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements_out,
        }
    return 200, {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "Integration hub",
        "DateTimeUTC": xero_date(),
        kind: results,
    }


def batch_answer(results: list[dict], failed: bool, summarize: bool, kind: str):
    """Xero's answer to a batch of payments, credit notes or allocations: per element, or
    400 with the refused ones (summarizeErrors)."""
    if failed and summarize:
        return 400, {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [r for r in results if r.get("StatusAttributeString") == "ERROR"],
        }
    return 200, {"Id": str(uuid.uuid4()), "Status": "OK", "DateTimeUTC": xero_date(), kind: results}


def refused(element: dict, errors: list[str], **flags: bool) -> dict:
    """An element of a batch Xero refused, as it answers it: with its ValidationErrors."""
    return dict(
        element,
        StatusAttributeString="ERROR",
        ValidationErrors=[{"Message": m} for m in errors],
        **flags,
    )
