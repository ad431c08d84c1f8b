"""The sandbox console: a page where a person acts as the CRM user in the demo."""

from html import escape

from connectors.sandbox.hubspot.store import Store

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#fff7f3;color:#2d3e50}
header{background:#ff7a59;color:#fff;padding:.8rem 1.5rem}
main{padding:1rem 1.5rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1.5rem}
th,td{border-bottom:1px solid #eadfd9;padding:.4rem .5rem;text-align:left;vertical-align:top}
button{font:inherit;padding:.3rem .7rem;border-radius:4px;border:1px solid #c3512f;
  background:#c3512f;color:#fff;cursor:pointer}
button.plain{background:#fff;color:#a33d1f}
input,select{font:inherit;padding:.2rem}
form{display:inline}
.note{background:#fff;border:1px solid #eadfd9;padding:.6rem 1rem;border-radius:6px}
:focus{outline:3px solid #2d3e50;outline-offset:2px}
"""
JOB_STATUSES = ("scheduled", "in_progress", "on_hold", "done", "invoiced", "paid", "cancelled")
COMPANY_FIELDS = ("name", "address", "city", "state", "zip", "phone", "abn")
FAULTS = (
    ("500", "Answer 500"),
    ("429", "Answer 429 (Retry-After 5 s)"),
    ("401", "Reject token (401)"),
    ("latency", "Add 2 s latency"),
    ("uninstall", "Uninstall the app (OAuth tokens refused)"),
    ("clear", "Clear faults"),
)


def _stages(store: Store, pipeline_id: str) -> list[dict]:
    for pipeline in store.pipelines["deals"]:
        if pipeline["id"] == pipeline_id:
            return pipeline["stages"]
    return []


def _is_won(stage: dict) -> bool:
    meta = stage["metadata"]
    return meta["isClosed"] == "true" and float(meta["probability"]) >= 1


def _form(action: str, inner: str) -> str:
    return f'<form method="post" action="{action}">{inner}</form>'


def _deal_row(store: Store, deal: dict) -> str:
    p = deal["properties"]
    name = escape(p.get("dealname") or "")
    stages = _stages(store, p.get("pipeline") or "default")
    current = p.get("dealstage") or ""
    options = "".join(
        f'<option value="{escape(s["id"])}"{" selected" if s["id"] == current else ""}>'
        f"{escape(s['label'])}</option>"
        for s in stages
    )
    label = next((s["label"] for s in stages if s["id"] == current), current)
    won = next((s["id"] for s in stages if _is_won(s)), "closedwon")
    company_ids = store.associated_ids("deals", deal["id"], "companies")
    company = store.get("companies", company_ids[0])["properties"]["name"] if company_ids else None
    action = f"/console/deals/{deal['id']}/stage"
    move = _form(
        action,
        f'<label>Stage <select name="dealstage">{options}</select></label> '
        '<button class="plain" type="submit">Move</button>',
    )
    mark_won = _form(
        action,
        f'<input type="hidden" name="dealstage" value="{escape(won)}">'
        f'<button type="submit" aria-label="Mark {name} won">Mark won</button>',
    )
    if company:
        company_cell = escape(company)
    else:
        options = "".join(
            f'<option value="{c["id"]}">{escape(c["properties"]["name"])}</option>'
            for c in store.list("companies")
        )
        company_cell = "<em>no company</em><br>" + _form(
            f"/console/deals/{deal['id']}/company",
            f'<label>Company <select name="company">{options}</select></label> '
            '<button class="plain" type="submit">Associate</button>',
        )
    job = ""
    if p.get("job_number"):
        statuses = "".join(
            f"<option{' selected' if v == p.get('job_status') else ''}>{v}</option>"
            for v in JOB_STATUSES
        )
        job = "<br>" + _form(
            f"/console/deals/{deal['id']}/job_status",
            f"<label>Job {escape(p['job_number'])} status "
            f'<select name="job_status">{statuses}</select></label> '
            '<button class="plain" type="submit">Set</button>',
        )
    if p.get("payment_status"):
        job += f"<br>Invoice {escape(p.get('invoice_number') or '')}: {_payment(p)}"
    return (
        f'<tr id="deal-{deal["id"]}"><td>{name}<br><small>id {deal["id"]}</small>{job}</td>'
        f"<td>{company_cell}</td>"
        f"<td>{escape(p.get('amount') or '')}</td><td>{escape(label)}</td>"
        f"<td>{move} {mark_won}</td></tr>"
    )


def _merge_form(company: dict, others: list[dict]) -> str:
    """The CRM user's "Merge" for a company: into which other company it goes."""
    name = company["properties"].get("name") or company["id"]
    options = "".join(
        f'<option value="{o["id"]}">{escape(o["properties"].get("name") or o["id"])} '
        f"(id {o['id']})</option>"
        for o in others
        if o["id"] != company["id"]
    )
    if not options:
        return ""
    return _form(
        f"/console/companies/{company['id']}/merge",
        f'<label>Merge into <select name="into">{options}</select></label> '
        f'<button class="plain" type="submit" aria-label="Merge {escape(name)} into the chosen '
        'company">Merge</button>',
    )


def _payment(p: dict) -> str:
    """The deal's invoice as HubSpot shows it: a voided or deleted one is owed nothing, so
    only its status shows; others say what was paid and what is due."""
    status = f"<strong>{escape(p['payment_status'].replace('_', ' '))}</strong>"
    if p["payment_status"] in ("voided", "deleted"):
        return f"{status} (nothing due)"
    last = p.get("last_payment_date")
    paid, due = escape(p.get("amount_paid") or "0"), escape(p.get("amount_due") or "")
    return f"{status} (paid {paid}, due {due}{', last payment ' + escape(last) if last else ''})"


def _company_row(company: dict, others: list[dict]) -> str:
    p = company["properties"]
    inputs = "".join(
        f'<label>{name} <input name="{name}" value="{escape(p.get(name) or "")}" '
        f'size="{14 if name in ("name", "address") else 8}"></label> '
        for name in COMPANY_FIELDS
    )
    form = _form(
        f"/console/companies/{company['id']}", f'{inputs}<button type="submit">Save</button>'
    )
    merge = _merge_form(company, others)
    return f'<tr id="company-{company["id"]}"><td>{form}<br>{merge}</td></tr>'


def _faults(store: Store) -> str:
    buttons = " ".join(
        _form(
            "/console/faults",
            f'<input type="hidden" name="fault" value="{value}">'
            f'<button class="plain" type="submit">{label}</button>',
        )
        for value, label in FAULTS
    )
    active = ", ".join(
        f"{fault['status'] or ''} {fault['latency_ms'] or ''}ms".replace(" 0ms", "").strip()
        for fault in store.faults
    )
    return f"<h2>Fault switches</h2><p>Active: {escape(active or 'none')}</p><p>{buttons}</p>"


def _deliveries(log) -> str:
    rows = "".join(
        f"<tr><td>{escape(e['at'])}</td><td>{e['events']}</td>"
        f"<td>{escape(', '.join(e['types']))}</td><td>{e['attempt']}</td>"
        f"<td>{escape(str(e['status']))}</td></tr>"
        for e in log
    )
    head = (
        "<tr><th>When (UTC)</th><th>Events</th><th>Types</th><th>Attempt</th>"
        "<th>Hub answered</th></tr>"
    )
    return f"<h2>Webhook deliveries to the hub</h2><table>{head}{rows}</table>"


def page(store: Store, log, webhook_url: str) -> str:
    """Return the console page."""
    with store.lock:
        deals = "".join(_deal_row(store, deal) for deal in store.list("deals"))
        every = store.list("companies")
        companies = "".join(_company_row(company, every) for company in every)
        faults = _faults(store)
    head = (
        "<tr><th>Deal</th><th>Company</th><th>Amount</th><th>Stage</th><th>Act as sales</th></tr>"
    )
    note = (
        "You are acting as the CRM user. Changes here send signed webhooks to the hub at "
        f"<code>{escape(webhook_url or '(no hub configured)')}</code>, as HubSpot would."
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>HubSpot sandbox</title>"
        f"<style>{STYLE}</style></head><body><header><strong>HubSpot sandbox</strong></header>"
        f'<main><p class="note">{note}</p><h2>Deals</h2><table>{head}{deals}</table>'
        f"<h2>Companies</h2><table>{companies}</table>{faults}{_deliveries(log)}</main></body></html>"
    )
