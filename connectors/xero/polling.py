"""Polling Xero for what it sends no webhook for (payments, quotes) and as a net under webhooks.

Each resource is read with If-Modified-Since from its watermark: the highest
UpdatedDateUTC seen so far (Xero's clock, never the hub's), minus an overlap so a record
saved in the same second as the last read is not missed. Records read twice make the
same event key, which the inbox stores once.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from connectors.base import VendorEvent
from connectors.errors import AuthExpired, ConnectorError
from connectors.models import XeroConnection
from connectors.xero.accounting import XeroAccounting
from connectors.xero.mapping import code

logger = logging.getLogger(__name__)
RESOURCES = ("invoices", "payments", "quotes")
PAGE_SIZE = 100  # Xero's page


def _event(connection: XeroConnection, resource: str, record) -> VendorEvent | None:
    """Turn a polled record into the event a webhook would have sent, with the record."""
    updated = record.updated_date_utc.isoformat()
    base = {"eventType": "UPDATE", "tenantId": connection.tenant_id, "eventDateUtc": updated}
    if resource == "invoices":
        if code(record.type) != "ACCREC":
            return None
        payload = base | {"eventCategory": "INVOICE", "resourceId": record.invoice_id}
        return VendorEvent(
            f"poll:invoice:{record.invoice_id}:{updated}",
            "INVOICE.UPDATE",
            record.invoice_id,
            payload,
        )
    if resource == "payments":
        # A payment changes its invoice: the handoff reads the invoice as it is now.
        invoice_id = record.invoice.invoice_id
        payload = base | {"eventCategory": "INVOICE", "resourceId": invoice_id}
        return VendorEvent(
            f"poll:payment:{record.payment_id}:{updated}", "INVOICE.UPDATE", invoice_id, payload
        )
    if code(record.status) != "ACCEPTED":
        return None
    payload = base | {"eventCategory": "QUOTE", "resourceId": record.quote_id}
    return VendorEvent(
        f"poll:quote:{record.quote_id}:accepted", "QUOTE.UPDATE", record.quote_id, payload
    )


def _since(connection: XeroConnection, resource: str) -> datetime:
    mark = connection.watermarks.get(resource)
    start = datetime.fromisoformat(mark) if mark else connection.connected_at - timedelta(days=1)
    return start - timedelta(seconds=settings.XERO_POLL_OVERLAP_SECONDS)


def resource_poll(
    connection: XeroConnection, resource: str, store: Callable[[list[VendorEvent]], int]
) -> int:
    """Read one resource's changes page by page; store their events; move the watermark."""
    xero, since, stored, page = XeroAccounting(connection), _since(connection, resource), 0, 1
    while True:
        records = xero.changed_since(resource, since, page)
        events = [e for e in (_event(connection, resource, r) for r in records) if e]
        newest = max((r.updated_date_utc for r in records), default=None)
        with transaction.atomic():
            stored += store(events)
            if newest:
                current = XeroConnection.objects.select_for_update().get(pk=connection.pk)
                mark = current.watermarks.get(resource)
                if not mark or datetime.fromisoformat(mark) < newest:
                    current.watermarks[resource] = newest.isoformat()
                    XeroConnection.objects.filter(pk=current.pk).update(
                        watermarks=current.watermarks
                    )
        if len(records) < PAGE_SIZE:
            return stored
        page += 1


def xero_poll(
    *, store: Callable[[list[VendorEvent]], int], refused: Callable[[AuthExpired], object]
) -> dict[str, int]:
    """Poll every connected organisation, storing events through `store`.

    Xero refusing the connection opens the one "Reconnect Xero" item (polling stops for
    that organisation until an admin reconnects); any other failure is logged and the
    next poll, a minute later, is the retry: its watermark has not moved.
    """
    counts: dict[str, int] = {}
    for connection in XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED):
        for resource in RESOURCES:
            try:
                stored = resource_poll(connection, resource, store)
                counts[resource] = counts.get(resource, 0) + stored
            except AuthExpired as error:
                refused(error)
                counts[f"{resource}_failed"] = counts.get(f"{resource}_failed", 0) + 1
                break
            except ConnectorError as error:
                logger.warning("Polling %s of %s failed: %s", resource, connection, error.message)
                counts[f"{resource}_failed"] = counts.get(f"{resource}_failed", 0) + 1
    return counts
