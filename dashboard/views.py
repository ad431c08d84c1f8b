"""The hub's home page and the record trail."""

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from dashboard.selectors import (
    connection_states,
    handoff_success,
    open_items_by_kind,
    queue_over_time,
)
from dashboard.trail import record_trail
from handoffs.models import ReconcileRun
from integration_hub.news import News, Seen, news_context, unchanged
from integration_hub.permissions import office_staff_required
from review_queue.models import ReviewItem


@office_staff_required
def home(request: HttpRequest) -> HttpResponse:
    """Show what needs attention, how handoffs are going and how each connection is."""
    seen = Seen.now(ReviewItem)
    kinds = open_items_by_kind()
    context = {
        "kinds": kinds,
        "open_total": sum(row["total"] for row in kinds),
        "day": handoff_success(days=1),
        "week": handoff_success(days=7),
        "connections": connection_states(),
        "series": queue_over_time(days=14),
        "last_check": ReconcileRun.objects.filter(dry_run=False).first(),
        **_home_news(seen, News()),
    }
    return render(request, "dashboard/home.html", context)


def _home_news(seen: Seen, news: News) -> dict:
    home = reverse("dashboard:home")
    endpoint = reverse("dashboard:news")
    return news_context(
        seen=seen, news=news, endpoint=endpoint, filters="", show_url=home, target=""
    )


@office_staff_required
@require_safe
def home_news(request: HttpRequest) -> HttpResponse:
    """Home's notice: review items raised, and items closed, since the page was drawn. One
    count on two indexes (the primary key; status and last seen); Show reloads the page."""
    seen = Seen.from_query(request.GET)
    closed = (ReviewItem.Status.RESOLVED, ReviewItem.Status.DISMISSED)
    new, gone = Q(pk__gt=seen.last), Q(status__in=closed, last_seen__gt=seen.at)
    counts = ReviewItem.objects.filter(new | gone).aggregate(
        new=Count("pk", filter=new), closed=Count("pk", filter=gone & ~new)
    )
    news = News(
        new=counts["new"], changed=counts["closed"], noun="review item", changed_word="closed"
    )
    return unchanged(request.GET, news) or render(request, "_news.html", _home_news(seen, news))


@office_staff_required
def trail(request: HttpRequest, system: str, type: str, ref: str) -> HttpResponse:
    """Show one timeline for a record across the systems."""
    entries = record_trail(system=system, type=type, ref=ref)
    context = {"entries": entries, "system": system, "type": type, "ref": ref}
    return render(request, "dashboard/trail.html", context)
