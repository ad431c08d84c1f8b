"""The hub's home page and the record trail."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.selectors import (
    connection_states,
    handoff_success,
    open_items_by_kind,
    queue_over_time,
)
from dashboard.trail import record_trail
from handoffs.models import ReconcileRun
from integration_hub.permissions import office_staff_required


@office_staff_required
def home(request: HttpRequest) -> HttpResponse:
    """Show what needs attention, how handoffs are going and how each connection is."""
    kinds = open_items_by_kind()
    context = {
        "kinds": kinds,
        "open_total": sum(row["total"] for row in kinds),
        "day": handoff_success(days=1),
        "week": handoff_success(days=7),
        "connections": connection_states(),
        "series": queue_over_time(days=14),
        "last_check": ReconcileRun.objects.filter(dry_run=False).first(),
    }
    return render(request, "dashboard/home.html", context)


@office_staff_required
def trail(request: HttpRequest, system: str, type: str, ref: str) -> HttpResponse:
    """Show one timeline for a record across the systems."""
    entries = record_trail(system=system, type=type, ref=ref)
    context = {"entries": entries, "system": system, "type": type, "ref": ref}
    return render(request, "dashboard/trail.html", context)
