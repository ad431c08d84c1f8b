"""Which connected Xero organisation a call reaches when no organisation is named.

The admin chooses the default on the Xero page (kept in InvoiceSettings, with history).
With exactly one organisation connected, that one is the default. With several and none
chosen the hub does not guess: the invoices wait on one "Choose the Xero organisation to
invoice" item. Which organisation invoices a given job is ownership/organisations.py's.
"""

from connectors.errors import AuthExpired, Invalid
from connectors.models import InvoiceSettings, XeroConnection
from connectors.xero.tokens import reconnect_needed

CHOOSE_ROOT = "xero:choose-organisation"


def organisations_connected() -> dict[str, str]:
    """Return tenant id → name of every organisation connected now, by name."""
    connected = XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED)
    return dict(connected.order_by("tenant_name").values_list("tenant_id", "tenant_name"))


def default_kept(before: dict[str, str]) -> str:
    """Record the organisation that was the only one connected (`before`) as the default
    once others join it, so invoicing goes on where it went; return its name ("" when
    nothing changed: a default was chosen, or there was not exactly one before)."""
    mapping = InvoiceSettings.current()
    if mapping.default_organisation or len(before) != 1 or len(organisations_connected()) < 2:
        return ""
    ((tenant, name),) = before.items()
    mapping.default_organisation = tenant
    mapping._change_reason = "Default organisation kept when another one was connected"
    mapping.save()
    return name


def organisation_chosen() -> str:
    """The default the admin chose (a tenant id), or "" when none is chosen."""
    return InvoiceSettings.current().default_organisation


def connection_for(tenant: str | None) -> XeroConnection:
    """Return the connection of this tenant, or of the default organisation when None.

    Raises the one "Reconnect Xero" cause when it is not connected, and the one "Choose the
    Xero organisation to invoice" cause when several are connected and none is chosen.
    """
    tenant = tenant or organisation_chosen() or _only_one()
    known = XeroConnection.objects.filter(tenant_id=tenant) if tenant else XeroConnection.objects
    found = known.filter(status=XeroConnection.Status.CONNECTED).order_by("pk").first()
    if found:
        return found
    # Marked for reconnecting: the same root cause, so the same one item.
    marked = known.filter(status=XeroConnection.Status.RECONNECT).order_by("pk").first()
    if marked:
        raise reconnect_needed(marked, "")
    raise AuthExpired(
        "No Xero organisation is connected"
        + (" (the one this work belongs to is not)" if tenant else "")
        + ", so the hub cannot reach Xero.",
        system="xero",
        code="not_connected",
        fix="An admin connects Xero from the hub's Xero page.",
    )


def _only_one() -> str:
    """The tenant of the one organisation in use ("" when none is); refuses to pick one of
    several."""
    in_use = XeroConnection.objects.exclude(status=XeroConnection.Status.DISCONNECTED)
    names = list(in_use.order_by("tenant_name").values_list("tenant_name", flat=True))
    if len(names) <= 1:
        return in_use.values_list("tenant_id", flat=True).first() or ""
    raise Invalid(
        f"{len(names)} Xero organisations are connected ({', '.join(names)}) and none is "
        "chosen as the default, so the hub does not know which one to invoice.",
        system="xero",
        code="organisation_unchosen",
        root=CHOOSE_ROOT,
        title="Choose the Xero organisation to invoice",
        fix="An admin opens the hub's Xero page and chooses the default organisation under "
        "'Organisations'; the invoices waiting here then go ahead by themselves.",
        details={"page": "xero"},
    )
