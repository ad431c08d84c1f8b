"""Pages showing what arrived and what the hub did with it."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from handoffs.drift import drift_chart, findings_csv
from handoffs.models import (
    HandoffRun,
    InboundEvent,
    ReconcileFinding,
    ReconcileRun,
    WebhookDelivery,
)
from handoffs.runs import ReplayRefused, handoff_run_replay
from integration_hub.permissions import office_staff_required


@office_staff_required
def activity(request: HttpRequest) -> HttpResponse:
    """Show recent deliveries (refusals too) and stored events."""
    context = {
        "deliveries": WebhookDelivery.objects.all()[:30],
        "events": InboundEvent.objects.all()[:50],
        "refusals_per_minute": settings.WEBHOOK_REFUSALS_PER_MINUTE,
    }
    return render(request, "handoffs/activity.html", context)


@office_staff_required
def run_list(request: HttpRequest) -> HttpResponse:
    """List handoff runs, filtered by handoff and state."""
    runs = HandoffRun.objects.select_related("review_item")
    handoff, state = request.GET.get("handoff", ""), request.GET.get("state", "")
    if handoff:
        runs = runs.filter(handoff=handoff)
    if state in HandoffRun.State.values:
        runs = runs.filter(state=state)
    context = {
        "page": Paginator(runs, 50).get_page(request.GET.get("page")),
        "handoffs": HandoffRun.objects.order_by("handoff")
        .values_list("handoff", flat=True)
        .distinct(),
        "states": HandoffRun.State.choices,
        "handoff": handoff,
        "state": state,
    }
    return render(request, "handoffs/run_list.html", context)


@office_staff_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one run with every attempt and the vendor calls each made."""
    run = get_object_or_404(HandoffRun.objects.select_related("event", "review_item"), pk=pk)
    return render(
        request, "handoffs/run_detail.html", {"run": run, "attempts": run.attempt_log.all()}
    )


@office_staff_required
@require_POST
def run_replay(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a finished handoff again."""
    run = get_object_or_404(HandoffRun, pk=pk)
    try:
        handoff_run_replay(run=run)
    except ReplayRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Replay sent to the workers. Refresh to see the new attempt.")
    return redirect("handoffs:run_detail", pk=pk)


@office_staff_required
def drift_report(request: HttpRequest) -> HttpResponse:
    """The checks that the systems agree: each run's counts, a chart, and one run's findings."""
    runs = ReconcileRun.objects.all()
    chosen = runs.filter(pk=request.GET.get("run") or 0).first() or runs.first()
    kind = request.GET.get("kind", "")
    findings = ReconcileFinding.objects.none()
    if chosen is not None:
        findings = chosen.findings.select_related("review_item", "record").prefetch_related(
            "record__links"
        )
        if kind in ReconcileFinding.Kind.values:
            findings = findings.filter(kind=kind)
    context = {
        "runs": runs[:30],
        "chosen": chosen,
        "chart": drift_chart(list(runs[:30])),
        "page": Paginator(findings, 100).get_page(request.GET.get("page")),
        "kinds": ReconcileFinding.Kind.choices,
        "kind": kind,
    }
    return render(request, "handoffs/drift.html", context)


@office_staff_required
def drift_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """One check's findings as CSV (spreadsheet formulas disarmed)."""
    run = get_object_or_404(ReconcileRun, pk=pk)
    response = HttpResponse(findings_csv(run), content_type="text/csv; charset=utf-8")
    name = f"drift-{run.started_at:%Y-%m-%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@office_staff_required
@require_POST
def drift_check(request: HttpRequest) -> HttpResponse:
    """Start a check now, in the background."""
    from handoffs.tasks import reconcile

    if ReconcileRun.objects.filter(state=ReconcileRun.State.RUNNING).exists():
        messages.error(request, "A check is running already; its result appears here when done.")
    else:
        asked_by = request.user.get_username()
        transaction.on_commit(lambda: reconcile.delay(asked_by=asked_by), robust=True)
        messages.success(request, "The check has started; refresh in a minute to see it.")
    return redirect("handoffs:drift")
