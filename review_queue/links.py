"""Links from an item's record into the system that holds it."""

from django.conf import settings

from review_queue.models import ReviewItem

# HubSpot's object type ids, as its record URLs use them.
HUBSPOT_TYPES = {"deal": "0-3", "customer": "0-2", "contact": "0-1"}


def _hubspot(record_type: str, record_id: str) -> str:
    base = settings.HUBSPOT_APP_URL.rstrip("/")
    return f"{base}/record/{HUBSPOT_TYPES[record_type]}/{record_id}"


def record_url(system: str, record_type: str, record_id: str) -> str:
    """Return the address of a record in its own system's screens, or "" when unknown."""
    if system == "hubspot" and record_type in HUBSPOT_TYPES and record_id:
        return _hubspot(record_type, record_id)
    return ""


def record_system(item: ReviewItem) -> str:
    """The system whose id the item's record_ref is: the item's own, except for a possible
    duplicate (its record is the new customer, in the system it came from)."""
    if item.kind == ReviewItem.Kind.DUPLICATE:
        return (item.details.get("new") or {}).get("system") or item.system
    return item.system


def record_links(item: ReviewItem) -> list[tuple[str, str]]:
    """Return (label, url) pairs that open the item's record in its own system."""
    if not item.record_ref:
        return []
    if item.system == "hubspot" and item.record_type in HUBSPOT_TYPES:
        return [("Open in HubSpot", _hubspot(item.record_type, item.record_ref))]
    if item.system == "xero" and item.record_type == "invoice":
        base = settings.XERO_APP_URL.rstrip("/")
        return [
            ("Open in Xero", f"{base}/AccountsReceivable/View.aspx?InvoiceID={item.record_ref}")
        ]
    if item.system == "operations" and item.record_type == "job":
        links = [("Open the job", f"/jobs/{item.record_ref}/")]
        if item.details.get("deal_system") == "hubspot":  # the deal the job was promised by
            links.append(("Open the deal in HubSpot", _hubspot("deal", item.details["deal"])))
        return links
    return []
