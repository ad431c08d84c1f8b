"""Pages showing what arrived and what the hub did with it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from handoffs.models import HandoffRun, InboundEvent, WebhookDelivery


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """Show recent deliveries (refusals too), events and handoff runs."""
    context = {
        "deliveries": WebhookDelivery.objects.all()[:30],
        "events": InboundEvent.objects.all()[:50],
        "runs": HandoffRun.objects.select_related("review_item")[:50],
    }
    return render(request, "handoffs/activity.html", context)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one run with every attempt."""
    run = get_object_or_404(HandoffRun.objects.select_related("event", "review_item"), pk=pk)
    return render(
        request, "handoffs/run_detail.html", {"run": run, "attempts": run.attempt_log.all()}
    )
