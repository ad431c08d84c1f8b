"""Pages where staff see and resolve review items."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from integration_hub.news import News, Seen, list_news, unchanged
from integration_hub.permissions import office_staff_required
from review_queue.actions import actions_for
from review_queue.links import record_links, record_system
from review_queue.models import SYSTEMS, NotificationRule, ReviewItem
from review_queue.selectors import (
    AGES,
    SORTS,
    QueueFilter,
    review_items_filtered,
    review_items_page,
)
from review_queue.services import (
    ResolutionRefused,
    review_item_assign,
    review_item_preview,
    review_item_resolve,
)

PAGE_SIZE = 25


def _action_forms(item: ReviewItem) -> list[dict]:
    """Return each fitting action with its fields resolved for this item."""
    return [
        {
            "action": action,
            "fields": [
                {
                    "name": f.name,
                    "label": f.label,
                    "help": f.help,
                    "choices": f.choices(item) if f.choices else None,
                    "initial": f.initial(item) if f.initial else "",
                }
                for f in action.fields
            ],
        }
        for action in actions_for(item)
    ]


def _values(request: HttpRequest, item: ReviewItem, action: str) -> dict:
    """Return the values a person typed for an action's fields."""
    for candidate in actions_for(item):
        if candidate.name == action:
            return {f.name: request.POST.get(f.name, "").strip() for f in candidate.fields}
    return {}


@office_staff_required
def item_list(request: HttpRequest) -> HttpResponse:
    """List items with filters, search, sorting and pages; htmx swaps only the table."""
    f = QueueFilter.from_query(request.GET)
    seen = Seen.now(ReviewItem)
    page = review_items_page(
        review_items_filtered(f, user=request.user),
        number=_page_number(request.GET.get("page", "")),
        size=PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "f": f,
        "query": query.urlencode(),
        "kinds": ReviewItem.Kind.choices,
        "statuses": [*ReviewItem.Status.choices, ("all", "Any status")],
        "systems": SYSTEMS,
        "ages": [(key, label) for key, (label, _, _) in AGES.items()],
        "sorts": SORTS.items(),
        "people": get_user_model().objects.filter(is_active=True).order_by("username"),
        **list_news(
            request,
            seen.showing(page.object_list),
            News(),
            endpoint="review_queue:news",
            page="review_queue:list#queue",
        ),
    }
    template = "review_queue/_table.html" if request.htmx else "review_queue/list.html"
    # A page past the end says so (and how many pages there are) rather than showing another.
    return render(request, template, context, status=404 if page.past_end else 200)


def _page_number(text: str) -> int:
    """Read a page number; anything that is not one counts as the first page."""
    return int(text) if text.isdigit() and len(text) <= 9 and int(text) > 0 else 1


@office_staff_required
@require_safe
def item_news(request: HttpRequest) -> HttpResponse:
    """The queue's notice: how many items matching its filters are new since it was drawn,
    and how many of those on screen changed (resolved, seen again, assigned)."""
    f = QueueFilter.from_query(request.GET)
    seen = Seen.from_query(request.GET)
    news = News(
        new=review_items_filtered(f, user=request.user).filter(pk__gt=seen.last).count(),
        changed=ReviewItem.objects.filter(pk__in=seen.shown, last_seen__gt=seen.at).count()
        if seen.shown
        else 0,
    )
    return unchanged(request.GET, news) or render(
        request,
        "_news.html",
        list_news(
            request, seen, news, endpoint="review_queue:news", page="review_queue:list#queue"
        ),
    )


@office_staff_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Retry, dismiss or assign the ticked items; say what happened to each."""
    action = request.POST.get("action", "")
    items = ReviewItem.objects.filter(pk__in=request.POST.getlist("items"))
    if not items:
        messages.error(request, "Tick at least one item first.")
        return redirect(request.POST.get("next") or "review_queue:list")
    done, refused = 0, []
    for item in items:
        try:
            if action == "assign":
                people = get_user_model().objects.filter(pk=request.POST.get("assignee") or None)
                review_item_assign(item=item, by=request.user, assignee=people.first())
            else:
                review_item_resolve(
                    item=item, by=request.user, action=action, note=request.POST.get("note", "")
                )
            done += 1
        except ResolutionRefused as why:
            refused.append(f"“{item.title}”: {why}")
    if done:
        messages.success(request, f"Done for {done} item{'s' if done != 1 else ''}.")
    for line in refused:
        messages.error(request, line)
    return redirect(request.POST.get("next") or "review_queue:list")


@office_staff_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one item: what failed, why, what to do, the actions that fit, and its log."""
    item = get_object_or_404(ReviewItem.objects.select_related("assignee", "resolved_by"), pk=pk)
    context = {
        "item": item,
        "forms": _action_forms(item) if item.is_open else [],
        "record_links": record_links(item),
        "record_system": record_system(item),
        "log": item.log.select_related("by"),
        "people": get_user_model().objects.filter(is_active=True).order_by("username"),
    }
    return render(request, "review_queue/detail.html", context)


@office_staff_required
@require_POST
def item_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Show what an action would do before the person confirms it (a dry run)."""
    item = get_object_or_404(ReviewItem, pk=pk)
    action = request.POST.get("action", "")
    values = _values(request, item, action)
    try:
        preview, error = review_item_preview(item=item, action=action, values=values), ""
    except ResolutionRefused as refused:
        preview, error = "", str(refused)
    context = {
        "item": item,
        "action": action,
        "values": values,
        "preview": preview,
        "error": error,
        "note": request.POST.get("note", ""),
    }
    template = "review_queue/_preview.html" if request.htmx else "review_queue/preview.html"
    return render(request, template, context)


@office_staff_required
@require_POST
def item_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the chosen action to an item and say what happened."""
    item = get_object_or_404(ReviewItem, pk=pk)
    action = request.POST.get("action", "")
    try:
        outcome = review_item_resolve(
            item=item,
            by=request.user,
            action=action,
            note=request.POST.get("note", ""),
            values=_values(request, item, action),
        )
    except ResolutionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, outcome)
    return redirect("review_queue:detail", pk=item.pk)


@office_staff_required
@require_POST
def item_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the item to a person, or to nobody."""
    item = get_object_or_404(ReviewItem, pk=pk)
    people = get_user_model().objects.filter(pk=request.POST.get("assignee") or None)
    review_item_assign(item=item, by=request.user, assignee=people.first())
    messages.success(request, "Assignment saved.")
    return redirect("review_queue:detail", pk=item.pk)


@office_staff_required
def notifications(request: HttpRequest) -> HttpResponse:
    """Let a person choose which new items they hear about, and how."""
    rule, _ = NotificationRule.objects.get_or_create(user=request.user)
    if request.method == "POST":
        kinds = [k for k in request.POST.getlist("kinds") if k in ReviewItem.Kind.values]
        mode = request.POST.get("mode")
        rule.kinds = kinds
        rule.mode = mode if mode in NotificationRule.Mode.values else rule.mode
        rule.active = request.POST.get("active") == "on"
        rule.save()
        messages.success(request, "Notification settings saved.")
        return redirect("review_queue:notifications")
    context = {
        "rule": rule,
        "kinds": ReviewItem.Kind.choices,
        "modes": NotificationRule.Mode.choices,
    }
    return render(request, "review_queue/notifications.html", context)
