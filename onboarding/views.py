"""The setup page (admins), the first match's progress, and its proposals (office staff)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from connectors.registry import systems
from integration_hub.permissions import admin_required, office_staff_required
from onboarding.models import FirstMatch, SetupMark
from onboarding.proposals import DECISIONS, proposals_decide
from onboarding.steps import RULES, setup_steps
from ownership.models import Proposal


@admin_required
def setup(request: HttpRequest) -> HttpResponse:
    """The setup steps in order, each with its state and where to do it."""
    steps = setup_steps()
    return render(
        request,
        "onboarding/setup.html",
        {
            "steps": steps,
            "done": sum(step.done for step in steps),
            "match": FirstMatch.objects.first(),
            "open_proposals": Proposal.objects.filter(state=Proposal.State.OPEN).count(),
        },
    )


@office_staff_required
def match_progress(request: HttpRequest) -> HttpResponse:
    """The first match's progress bar (htmx asks again every 2 s while it runs)."""
    return render(request, "onboarding/_progress.html", {"match": FirstMatch.objects.first()})


@admin_required
@require_POST
def match_start(request: HttpRequest) -> HttpResponse:
    """Start (or go on with) the first match in the background."""
    from onboarding.tasks import match_customers

    asked_by = request.user.get_username()
    transaction.on_commit(lambda: match_customers.delay(asked_by))
    messages.success(request, "The first match started: its progress shows below.")
    return redirect("onboarding:setup")


@admin_required
@require_POST
def properties_make(request: HttpRequest) -> HttpResponse:
    """Make the HubSpot properties the hub writes, in the background."""
    from onboarding.tasks import hubspot_properties

    user_id = request.user.pk
    transaction.on_commit(lambda: hubspot_properties.delay(user_id))
    messages.success(request, "The hub is checking HubSpot's properties: refresh in a moment.")
    return redirect("onboarding:setup")


@admin_required
@require_POST
def rules_reviewed(request: HttpRequest) -> HttpResponse:
    """An admin says the ownership rules are as the business wants them."""
    SetupMark.objects.update_or_create(step=RULES, defaults={"by": request.user, "ok": True})
    messages.success(request, "Noted: the ownership rules are reviewed.")
    return redirect("onboarding:setup")


def _filtered(request: HttpRequest):
    wanted = request.GET if request.method == "GET" else request.POST
    found = Proposal.objects.all()
    state = wanted.get("state", Proposal.State.OPEN)
    if state in Proposal.State.values:
        found = found.filter(state=state)
    for name in ("system", "target", "why"):
        if wanted.get(name):
            found = found.filter(**{name: wanted[name]})
    if wanted.get("q"):
        found = found.filter(Q(name__icontains=wanted["q"]) | Q(candidates__icontains=wanted["q"]))
    return found, {
        "state": state,
        **{k: wanted.get(k, "") for k in ("system", "target", "why", "q")},
    }


@office_staff_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    """The first match's proposals: filter, select (or select all), then link, new or skip."""
    if request.method == "POST":
        return _decide(request)
    found, filters = _filtered(request)
    labels = {name: each.label for name, each in systems().items()}
    page = Paginator(found.select_related("decided_by"), 100).get_page(request.GET.get("page"))
    for proposal in page.object_list:
        proposal.system_label = labels.get(proposal.system, proposal.system)
        proposal.target_label = labels.get(proposal.target, proposal.target)
    return render(
        request,
        "onboarding/proposals.html",
        {
            "page": page,
            "count": found.count(),
            "filters": filters,
            "labels": labels,
            "states": Proposal.State.choices,
            "reasons": Proposal.objects.values_list("why", flat=True).distinct().order_by("why"),
            "decisions": DECISIONS,
        },
    )


def _decide(request: HttpRequest) -> HttpResponse:
    decision = request.POST.get("decision", "")
    if decision not in DECISIONS:
        messages.error(request, "Choose what to do with the selected proposals.")
        return redirect(request.get_full_path())
    if request.POST.get("all") == "1":
        chosen = list(_filtered(request)[0].filter(state=Proposal.State.OPEN))
    else:
        ids = [int(i) for i in request.POST.getlist("pick") if i.isdigit()]
        chosen = list(Proposal.objects.filter(pk__in=ids, state=Proposal.State.OPEN))
    if not chosen:
        messages.error(request, "Select at least one proposal (or all that match the filter).")
        return redirect(request.get_full_path())
    candidates = {p.pk: request.POST.get(f"candidate-{p.pk}", "") for p in chosen}
    decided = proposals_decide(
        proposals=chosen, decision=decision, by=request.user, chosen=candidates
    )
    messages.success(request, f"{DECISIONS[decision]}: {decided.done} customer(s).")
    for refusal in decided.refused[:20]:
        messages.warning(request, refusal)
    return redirect(request.get_full_path())
