"""Reads for the home page: open items, handoff success, connections, queue over time."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from connectors.models import HubSpotConnection, XeroConnection
from handoffs.models import HandoffAttempt, HandoffRun
from review_queue.models import ReviewItem

# The systems the hub holds one credential for; Xero has a row per organisation.
CONNECTED_SYSTEMS = (("hubspot", "HubSpot"),)


def open_items_by_kind() -> list[dict]:
    """Return open items per kind, split by age."""
    now = timezone.now()
    rows = (
        ReviewItem.objects.filter(status=ReviewItem.Status.OPEN)
        .values("kind")
        .annotate(
            total=Count("pk"),
            hour=Count("pk", filter=Q(first_seen__gte=now - timedelta(hours=1))),
            day=Count("pk", filter=Q(first_seen__gte=now - timedelta(days=1))),
            week=Count("pk", filter=Q(first_seen__gte=now - timedelta(days=7))),
        )
        .order_by("-total")
    )
    labels = dict(ReviewItem.Kind.choices)
    return [row | {"label": labels.get(row["kind"], row["kind"])} for row in rows]


def handoff_success(*, days: int) -> dict:
    """Return how many runs finished in the window and the share that succeeded."""
    since = timezone.now() - timedelta(days=days)
    counts = HandoffRun.objects.filter(finished_at__gte=since).aggregate(
        done=Count("pk", filter=Q(state=HandoffRun.State.DONE)),
        skipped=Count("pk", filter=Q(state=HandoffRun.State.SKIPPED)),
        failed=Count("pk", filter=Q(state=HandoffRun.State.NEEDS_REVIEW)),
        retrying=Count("pk", filter=Q(state=HandoffRun.State.RETRYING)),
    )
    finished = counts["done"] + counts["skipped"] + counts["failed"]
    rate = (counts["done"] + counts["skipped"]) / finished if finished else None
    return counts | {"finished": finished, "rate": rate}


@dataclass(frozen=True)
class ConnectionState:
    """How the hub's connection to one system is doing."""

    system: str
    name: str
    needs_reconnect: bool
    item: ReviewItem | None
    last_success: object
    headroom: str
    # Xero's organisations: the connection's own state and how old its token is.
    status_label: str = ""
    token_refreshed: object = None


def connection_states() -> list[ConnectionState]:
    """Return each system's state: reconnect needed, last good call, rate-limit headroom."""
    states = []
    for system, name in CONNECTED_SYSTEMS:
        item = ReviewItem.objects.filter(
            status=ReviewItem.Status.OPEN, root_key__startswith=f"connection:{system}:"
        ).first()
        last = (
            HandoffAttempt.objects.filter(run__queue=system, outcome=HandoffAttempt.Outcome.DONE)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        headroom = cache.get(f"ratelimit:{system}") or "not reported yet"
        # A connection stored on the HubSpot page knows its own state and last good call.
        stored = HubSpotConnection.current() if system == "hubspot" else None
        marked = stored is not None and stored.status == HubSpotConnection.Status.RECONNECT
        if stored is not None and stored.last_success_at:
            last = stored.last_success_at
        needs_reconnect = item is not None or marked
        states.append(ConnectionState(system, name, needs_reconnect, item, last, headroom))
    return states + xero_states()


def xero_reconnect_items() -> dict[str, ReviewItem]:
    """Return the open "Reconnect Xero" item of each organisation (tenant id) it names.

    An item naming no organisation (made before items named them) counts for every one,
    under "*"; the item for "nothing is connected" is under "" alone.
    """
    found: dict[str, ReviewItem] = {}
    items = ReviewItem.objects.filter(
        status=ReviewItem.Status.OPEN, root_key__startswith="connection:xero:"
    ).order_by("first_seen")
    for item in items:
        tenants = item.details.get("tenant_ids") or (
            [""] if item.root_key == "connection:xero:not_connected" else ["*", ""]
        )
        for tenant in tenants:
            found.setdefault(tenant, item)
    return found


def xero_states() -> list[ConnectionState]:
    """Return one row per Xero organisation, or one saying none is connected.

    An organisation with an open "Reconnect Xero" item is never shown as connected.
    """
    items = xero_reconnect_items()
    rows = []
    for c in XeroConnection.objects.exclude(status=XeroConnection.Status.DISCONNECTED):
        item = items.get(c.tenant_id) or items.get("*")
        needs_reconnect = c.status == XeroConnection.Status.RECONNECT or item is not None
        headroom = (
            f"{c.minute_remaining} calls left this minute, {c.day_remaining} today"
            if c.minute_remaining is not None
            else "not reported yet"
        )
        rows.append(
            ConnectionState(
                "xero",
                f"Xero: {c.tenant_name}",
                needs_reconnect=needs_reconnect,
                item=item,
                last_success=c.last_success_at,
                headroom=headroom,
                status_label="Reconnect needed" if needs_reconnect else c.get_status_display(),
                token_refreshed=c.refreshed_at,
            )
        )
    return rows or [
        ConnectionState(
            "xero", "Xero", True, items.get(""), None, "—", status_label="Not connected"
        )
    ]


def queue_over_time(*, days: int = 14) -> list[dict]:
    """Return, per day, items opened, items closed and the open depth at the day's end."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(timezone.datetime.combine(first, timezone.datetime.min.time()))
    opened = dict(
        ReviewItem.objects.filter(first_seen__gte=start)
        .annotate(day=TruncDate("first_seen"))
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    closed = dict(
        ReviewItem.objects.filter(resolved_at__gte=start)
        .annotate(day=TruncDate("resolved_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    depth = ReviewItem.objects.filter(first_seen__lt=start).exclude(resolved_at__lt=start).count()
    series = []
    for offset in range(days):
        day: date = first + timedelta(days=offset)
        depth += opened.get(day, 0) - closed.get(day, 0)
        series.append(
            {"day": day, "opened": opened.get(day, 0), "closed": closed.get(day, 0), "depth": depth}
        )
    peak = max([1] + [max(row["depth"], row["opened"]) for row in series])
    for position, row in enumerate(series):
        # Bar geometry for the page's SVG chart: 130 px for the busiest day.
        row["x"] = 4 + position * 50
        row["depth_h"] = round(130 * row["depth"] / peak)
        row["opened_h"] = round(130 * row["opened"] / peak)
        row["depth_y"] = 140 - row["depth_h"]
        row["opened_y"] = 140 - row["opened_h"]
    return series
