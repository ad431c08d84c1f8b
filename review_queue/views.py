"""Pages where staff see and resolve review items."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from review_queue.actions import actions_for
from review_queue.models import ReviewItem
from review_queue.selectors import review_items_open
from review_queue.services import ResolutionRefused, review_item_resolve


@login_required
def item_list(request: HttpRequest) -> HttpResponse:
    """List the open items, newest first."""
    items = review_items_open()[:200]
    return render(request, "review_queue/list.html", {"items": items})


@login_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one item: what failed, why, what to do, and the actions that fit it."""
    item = get_object_or_404(ReviewItem, pk=pk)
    actions = actions_for(item) if item.is_open else []
    return render(request, "review_queue/detail.html", {"item": item, "actions": actions})


@login_required
@require_POST
def item_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the chosen action to an item and say what happened."""
    item = get_object_or_404(ReviewItem, pk=pk)
    try:
        outcome = review_item_resolve(
            item=item,
            by=request.user,
            action=request.POST.get("action", ""),
            note=request.POST.get("note", ""),
        )
    except ResolutionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, outcome)
    return redirect("review_queue:detail", pk=item.pk)
