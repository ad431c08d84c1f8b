"""The Xero sandbox console: a person acts as the bookkeeper in the demo."""

from html import escape

from connectors.sandbox.xero import books, credits, money, tracking
from connectors.sandbox.xero.store import Organisation, Store, currency_enable, xero_date

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f5f8fa;color:#1e3140}
header{background:#0b5cab;color:#fff;padding:.8rem 1.5rem}
main{padding:1rem 1.5rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1.5rem}
th,td{border-bottom:1px solid #d3dde4;padding:.4rem .5rem;text-align:left;vertical-align:top}
button{font:inherit;padding:.3rem .7rem;border-radius:4px;border:1px solid #0b5cab;
  background:#0b5cab;color:#fff;cursor:pointer}
button.plain{background:#fff;color:#0b5cab}
input{font:inherit;padding:.2rem}
form{display:inline}
.note{background:#fff;border:1px solid #d3dde4;padding:.6rem 1rem;border-radius:6px}
:focus{outline:3px solid #1e3140;outline-offset:2px}
"""
FAULTS = (
    ("503", "Answer 503 (Xero down)"),
    ("500", "Answer 500"),
    ("latency", "Add 2 s latency"),
    ("skew", "Xero's clock 10 minutes ahead (tokens expire early)"),
    ("expire", "Expire access tokens now"),
    ("clear", "Clear faults"),
)
ADDRESS_FIELDS = ("AddressLine1", "City", "Region", "PostalCode")
CONTACT_FIELDS = ("Name", "TaxNumber", "EmailAddress", "Phone", *ADDRESS_FIELDS)


def _form(action: str, inner: str) -> str:
    return f'<form method="post" action="{action}">{inner}</form>'


def _button(action: str, label: str, aria: str, extra: str = "") -> str:
    return _form(
        action, f'{extra}<button type="submit" aria-label="{escape(aria)}">{label}</button>'
    )


def _invoice_row(org: Organisation, invoice: dict) -> str:
    number, status = invoice["InvoiceNumber"], invoice["Status"]
    base = f"/console/{org.tenant_id}/invoices/{invoice['InvoiceID']}"
    actions = []
    if status in ("DRAFT", "SUBMITTED"):
        actions.append(_button(f"{base}/approve", "Approve", f"Approve {number}"))
        actions.append(_button(f"{base}/delete", "Delete", f"Delete {number}"))
    if status == "AUTHORISED":
        amount = (
            f'<label>Amount <input name="amount" size="8" value="{invoice["AmountDue"]:.2f}">'
            "</label> "
        )
        actions.append(
            _button(f"{base}/pay", "Record payment", f"Record payment on {number}", amount)
        )
        actions.append(_button(f"{base}/credit", "Credit", f"Credit {number}", amount))
        actions.append(_button(f"{base}/void", "Void", f"Void {number}"))
    return (
        f'<tr id="invoice-{escape(number)}"><td>{escape(number)}</td>'
        f"<td>{escape(invoice['Contact']['Name'])}</td>"
        f"<td>{escape(invoice.get('Reference', ''))}</td>"
        f"<td>{invoice['Total']:.2f}</td><td>{invoice['AmountPaid']:.2f}</td>"
        f"<td>{invoice.get('AmountCredited', 0):.2f}</td><td>{invoice['AmountDue']:.2f}</td>"
        f"<td>{status}</td><td>{' '.join(actions)}</td></tr>"
    )


def _quote_row(org: Organisation, quote: dict) -> str:
    number = quote["QuoteNumber"]
    action = ""
    if quote["Status"] == "SENT":
        action = _button(
            f"/console/{org.tenant_id}/quotes/{quote['QuoteID']}/accept",
            "Mark accepted",
            f"Mark {number} accepted",
        )
    return (
        f'<tr id="quote-{escape(number)}"><td>{escape(number)}</td>'
        f"<td>{escape(quote['Contact']['Name'])}</td><td>{escape(quote.get('Title', ''))}</td>"
        f"<td>{quote['Total']:.2f}</td><td>{quote['Status']}</td><td>{action}</td></tr>"
    )


def _contact_row(org: Organisation, contact: dict) -> str:
    address = (contact.get("Addresses") or [{}])[0]
    phone = next((p for p in contact.get("Phones") or [] if p.get("PhoneType") == "DEFAULT"), {})
    values = {name: contact.get(name) for name in ("Name", "TaxNumber", "EmailAddress")}
    values |= address | {"Phone": phone.get("PhoneNumber")}
    inputs = "".join(
        f'<label>{name} <input name="{name}" value="{escape(str(values.get(name) or ""))}" '
        f'size="{16 if name in ("Name", "AddressLine1") else 8}"></label> '
        for name in CONTACT_FIELDS
    )
    action = f"/console/{org.tenant_id}/contacts/{contact['ContactID']}"
    name = contact.get("Name") or ""
    if contact["ContactStatus"] != "ACTIVE":
        went = org.contacts.get(contact.get("MergedToContactID") or "")
        said = f"merged into {went['Name']}" if went else "archived"
        return f"<tr><td>{escape(name)}: <strong>{escape(said)}</strong></td></tr>"
    others = "".join(
        f'<option value="{c["ContactID"]}">{escape(c["Name"])}</option>'
        for c in org.contacts.values()
        if c["ContactStatus"] == "ACTIVE" and c is not contact
    )
    merge = (
        _button(
            f"{action}/merge",
            "Merge",
            f"Merge {name} into the chosen contact",
            f'<label>Merge into <select name="into">{others}</select></label> ',
        )
        if others
        else ""
    )
    archive = _button(f"{action}/archive", "Archive", f"Archive {name}")
    save = _form(action, inputs + "<button type=submit>Save</button>")
    return f"<tr><td>{save}<br>{archive} {merge}</td></tr>"


def _category_row(org: Organisation, category: dict) -> str:
    options = ", ".join(
        escape(o["Name"]) + (" (archived)" if o["Status"] != "ACTIVE" else "")
        for o in category["Options"]
    )
    name = escape(category["Name"])
    add = _form(
        f"/console/{org.tenant_id}/tracking/{category['TrackingCategoryID']}/add",
        f'<label>New option in {name} <input name="option" size="16"></label> '
        "<button type=submit>Add (or restore)</button>",
    )
    return f"<tr><td>{name}</td><td>{options or 'none'}</td><td>{add}</td></tr>"


def _organisation(org: Organisation) -> str:
    invoices = "".join(_invoice_row(org, i) for i in reversed(list(org.invoices.values())))
    quotes = "".join(_quote_row(org, q) for q in org.quotes.values())
    contacts = "".join(_contact_row(org, c) for c in org.contacts.values())
    categories = "".join(_category_row(org, c) for c in org.tracking_categories.values())
    enabled = ", ".join(f"{c} (rate {v['_rate']})" for c, v in org.currencies.items())
    enable = _form(
        f"/console/{org.tenant_id}/currencies/new",
        '<label>Code <input name="code" size="3" required></label> '
        '<label>Rate to 1 AUD <input name="rate" size="6" required></label> '
        '<button class="plain" type="submit">Enable</button>',
    )
    return (
        f"<h2>{escape(org.name)}</h2>"
        f"<p>Calls this minute: {len(org.calls)}, today: {len(org.day_calls)}, "
        f"refused with 429: {org.rejected}</p>"
        f"<p>Currencies enabled: {escape(enabled)}</p>{enable}"
        "<h3>Invoices</h3><table><tr><th>Number</th><th>Contact</th><th>Reference</th>"
        "<th>Total</th><th>Paid</th><th>Credited</th><th>Due</th><th>Status</th>"
        "<th>Act as the bookkeeper</th>"
        f"</tr>{invoices or '<tr><td colspan=9>None yet.</td></tr>'}</table>"
        "<h3>Quotes</h3><table><tr><th>Number</th><th>Contact</th><th>Title</th><th>Total</th>"
        f"<th>Status</th><th>Act as the customer</th></tr>{quotes}</table>"
        f"<h3>Contacts</h3><table>{contacts or '<tr><td>None yet.</td></tr>'}</table>"
        "<h3>Tracking categories</h3><table><tr><th>Category</th><th>Options</th>"
        f"<th>Act as the bookkeeper</th></tr>{categories}</table>"
    )


def page(store: Store, log, webhook_url: str) -> str:
    """Return the console page."""
    with store.lock:
        orgs = "".join(_organisation(org) for org in store.organisations.values())
        active = ", ".join(f"{k}={v}" for k, v in store.faults.items()) or "none"
    faults = " ".join(
        _form(
            "/console/faults",
            f'<input type="hidden" name="fault" value="{value}">'
            f'<button class="plain" type="submit">{label}</button>',
        )
        for value, label in FAULTS
    )
    rows = "".join(
        f"<tr><td>{escape(e['at'])}</td><td>{e['events']}</td>"
        f"<td>{escape(', '.join(e['types']))}</td><td>{e['attempt']}</td>"
        f"<td>{escape(str(e['status']))}</td></tr>"
        for e in log
    )
    note = (
        "You are acting as the business's bookkeeper in Xero. Changes here send signed webhooks "
        f"to the hub at <code>{escape(webhook_url or '(no hub configured)')}</code>, as Xero "
        "would; payments and quotes reach the hub when it polls."
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Xero sandbox</title>"
        f"<style>{STYLE}</style></head><body><header><strong>Xero sandbox</strong></header>"
        f'<main><p class="note">{note}</p>{orgs}<h2>Fault switches</h2>'
        f"<p>Active: {escape(active)}</p><p>{faults}</p>"
        "<h2>Webhook deliveries to the hub</h2><table><tr><th>When (UTC)</th><th>Events</th>"
        f"<th>Types</th><th>Attempt</th><th>Hub answered</th></tr>{rows}</table>"
        "</main></body></html>"
    )


def act(store: Store, parts: list[str], form: dict[str, str]) -> None:
    """Carry out a console button: parts is the path after /console/."""
    if parts == ["faults"]:
        if form.get("fault") == "expire":  # an event, not a lasting fault
            store.tokens_expire()
            return
        store.faults = {
            "503": {"status": 503},
            "500": {"status": 500},
            "latency": {"latency_ms": 2000},
            "skew": {"clock_skew": 600},
        }.get(form.get("fault", ""), {})
        return
    tenant, kind, record_id, *verb = parts
    org = store.organisations[tenant]
    with store.lock:
        if kind == "invoices":
            _invoice_act(store, org, org.invoices[record_id], verb[0], form)
        elif kind == "quotes":
            money.quote_status(store, org, record_id, "ACCEPTED")
        elif kind == "contacts" and verb == ["archive"]:
            books.contact_archive(store, org, record_id)
        elif kind == "contacts" and verb == ["merge"]:
            books.contact_merge(store, org, record_id, form["into"])
        elif kind == "contacts":
            _contact_edit(store, org, org.contacts[record_id], form)
        elif kind == "tracking" and form.get("option", "").strip():
            name = org.tracking_categories[record_id]["Name"]
            tracking.option_add(org.tracking_categories, name, form["option"].strip())
        elif kind == "currencies":  # the bookkeeper enables a currency (multi-currency plan)
            code = form.get("code", "").strip().upper()
            currency_enable(org, code, code, float(form.get("rate") or 1))


def _invoice_act(store: Store, org: Organisation, invoice: dict, verb: str, form: dict) -> None:
    if verb == "pay":
        money.payment_apply(store, org, invoice, {"Amount": float(form.get("amount") or 0)})
        return
    if verb == "credit":
        credits.credit_apply(store, org, invoice, float(form.get("amount") or 0))
        return
    invoice["Status"] = {"approve": "AUTHORISED", "void": "VOIDED", "delete": "DELETED"}[verb]
    store.invoice_total(invoice)
    invoice["UpdatedDateUTC"] = xero_date()
    store.changed(org, "INVOICE", invoice["InvoiceID"], "UPDATE")


def _contact_edit(store: Store, org: Organisation, contact: dict, form: dict) -> None:
    """The bookkeeper edits a contact: each field the form sends (an empty one clears it)."""
    for name in ("Name", "TaxNumber", "EmailAddress"):
        if name in form:
            contact[name] = form[name]
    if "Phone" in form:
        others = [p for p in contact.get("Phones") or [] if p.get("PhoneType") != "DEFAULT"]
        contact["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": form["Phone"]}, *others]
    if any(name in form for name in ADDRESS_FIELDS):
        address = {k: form.get(k, "") for k in ADDRESS_FIELDS}
        contact["Addresses"] = [{"AddressType": "POBOX", **address}]
    contact["UpdatedDateUTC"] = xero_date()
    store.changed(org, "CONTACT", contact["ContactID"], "UPDATE")
