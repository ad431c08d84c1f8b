"""The Xero page's organisations: the default one, and the rules sending a pipeline's or a
customer's invoices to another (ownership/organisations.py applies them)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from connectors.errors import ConnectorError
from connectors.models import InvoiceSettings
from connectors.registry import crm
from connectors.xero.organisations import CHOOSE_ROOT, organisations_connected
from integration_hub.permissions import admin_required
from ownership.models import InvoiceRoute, Record
from review_queue.models import ReviewItem
from review_queue.services import ResolutionRefused, review_item_resolve


def organisations_context() -> dict:
    """What the Xero page shows of the organisations: connected ones, the default, the
    rules, and the pipelines and customers a rule may name."""
    try:
        pipelines, pipelines_error = crm().pipelines(), ""
    except ConnectorError as error:
        pipelines, pipelines_error = {}, f"{error.message} {error.fix}".strip()
    mapping, connected = InvoiceSettings.current(), organisations_connected()
    changes = [
        h
        for h in mapping.history.select_related("history_user")[:50]
        if h.prev_record is None or h.prev_record.default_organisation != h.default_organisation
    ][:10]
    for h in changes:
        h.organisation_label = connected.get(h.default_organisation) or (
            "not chosen" if not h.default_organisation else "an organisation no longer connected"
        )
    return {
        "organisations": connected,
        "default_organisation": mapping.default_organisation,
        "default_name": connected.get(mapping.default_organisation, ""),
        # The organisation invoicing a job no rule sends elsewhere, as the table marks it.
        "default_now": mapping.default_organisation
        or (next(iter(connected)) if len(connected) == 1 else ""),
        "routes": InvoiceRoute.objects.select_related("customer"),
        "pipelines": pipelines,
        "pipelines_error": pipelines_error,
        "customers": Record.objects.filter(type=Record.Type.CUSTOMER).order_by("label")[:1000],
        "default_changes": [h for h in changes if h.default_organisation],
        "route_changes": InvoiceRoute.history.select_related("history_user")[:10],
    }


def _organisation(request: HttpRequest) -> tuple[str, str] | None:
    """The connected organisation the form names (tenant id, name), or None with a message."""
    tenant = request.POST.get("organisation", "")
    name = organisations_connected().get(tenant)
    if name is None:
        messages.error(request, "Choose one of the connected Xero organisations.")
        return None
    return tenant, name


@admin_required
@require_POST
def xero_default(request: HttpRequest) -> HttpResponse:
    """Choose the default organisation; the invoices waiting for the choice go ahead."""
    chosen = _organisation(request)
    if chosen is None:
        return redirect("connectors:xero")
    mapping = InvoiceSettings.current()
    mapping.default_organisation = chosen[0]
    mapping._change_reason = f"Default organisation chosen on the Xero page by {request.user}"
    mapping.save()
    messages.success(request, f"{chosen[1]} is now the default Xero organisation.")
    for item in ReviewItem.objects.filter(root_key=CHOOSE_ROOT, status=ReviewItem.Status.OPEN):
        try:
            said = review_item_resolve(item=item, by=request.user, action="retry")
        except ResolutionRefused:
            continue  # someone closed it a moment ago
        messages.success(request, f"{item.title}: {said}")
    return redirect("connectors:xero")


@admin_required
@require_POST
def xero_route_add(request: HttpRequest) -> HttpResponse:
    """Send a pipeline's or a customer's invoices to an organisation (replacing its rule)."""
    chosen = _organisation(request)
    if chosen is None:
        return redirect("connectors:xero")
    tenant, name = chosen
    kind = request.POST.get("kind")
    if kind == InvoiceRoute.Kind.PIPELINE:
        pipeline = request.POST.get("pipeline", "")
        label = crm().pipelines().get(pipeline)
        if label is None:
            messages.error(request, "Choose one of the CRM's pipelines.")
            return redirect("connectors:xero")
        key = {"kind": kind, "pipeline": pipeline}
        extra = {"pipeline_name": label}
        what = f"Deals in the pipeline '{label}'"
    elif kind == InvoiceRoute.Kind.CUSTOMER:
        customer = Record.objects.filter(
            type=Record.Type.CUSTOMER, pk=request.POST.get("customer") or 0
        ).first()
        if customer is None:
            messages.error(request, "Choose one of the hub's customers.")
            return redirect("connectors:xero")
        key, extra, what = {"kind": kind, "customer": customer}, {}, f"Customer {customer.label}"
    else:
        messages.error(request, "Say whether the rule is for a pipeline or a customer.")
        return redirect("connectors:xero")
    route = InvoiceRoute.objects.filter(**key).first() or InvoiceRoute(**key)
    route.organisation, route.organisation_name = tenant, name
    for field, value in extra.items():
        setattr(route, field, value)
    route._change_reason = f"Set on the Xero page by {request.user}"
    route.save()
    messages.success(request, f"{what}: invoiced in {name} from now on.")
    return redirect("connectors:xero")


@admin_required
@require_POST
def xero_route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a rule: those invoices go to the default organisation again."""
    route = get_object_or_404(InvoiceRoute, pk=pk)
    route._change_reason = f"Removed on the Xero page by {request.user}"
    route.delete()
    messages.success(request, f"Rule removed ({route}): the default organisation invoices them.")
    return redirect("connectors:xero")
