"""The Xero settings page: connect organisations (OAuth or Custom Connection), disconnect."""

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connectors.errors import ConnectorError
from connectors.models import InvoiceSettings, TrackingMapping, XeroConnection
from connectors.oauth import state_matches, state_new
from connectors.xero import connect
from connectors.xero.views import organisations_context
from dashboard.selectors import xero_reconnect_items
from integration_hub.crypto import fernet
from integration_hub.permissions import admin_required
from review_queue.actions import action_get
from review_queue.models import ReviewItem
from review_queue.services import ResolutionRefused, review_item_resolve

PENDING = "xero_pending_consent"
MOST_TRACKED = 2  # Xero takes at most two tracking categories on a line


def _callback_url(request: HttpRequest) -> str:
    return settings.XERO_REDIRECT_URI or request.build_absolute_uri(reverse("connectors:callback"))


def waiting_resume(request: HttpRequest, *, system: str) -> None:
    """Close the "Reconnect Xero" (or HubSpot) items the new connection answers, as this
    admin, and send the handoffs waiting on them back to the workers."""
    items = ReviewItem.objects.filter(
        system=system, kind=ReviewItem.Kind.CONNECTION, status=ReviewItem.Status.OPEN
    )
    reconnected = action_get("reconnected")
    for item in items:
        if reconnected is None or not reconnected.applies_to(item):
            continue  # it names an organisation that is still not connected: it stays open
        try:
            outcome = review_item_resolve(item=item, by=request.user, action="reconnected")
        except ResolutionRefused:
            continue  # someone closed it a moment ago
        messages.success(request, f"{item.title}: {outcome}")


def _connections() -> list[XeroConnection]:
    """The organisations, each with its open "Reconnect Xero" item (None when there is none)."""
    items = xero_reconnect_items()
    connections = list(XeroConnection.objects.order_by("tenant_name"))
    for c in connections:
        c.reconnect_item = items.get(c.tenant_id) or items.get("*")
    return connections


class InvoiceSettingsForm(forms.ModelForm):
    class Meta:
        model = InvoiceSettings
        fields = ["sales_account", "tax_gst", "tax_gst_free", "tax_none", "default_due_days"]


class TrackingMappingForm(forms.ModelForm):
    class Meta:
        model = TrackingMapping
        fields = ["category", "source", "hubspot_property", "fallback"]

    def clean(self):
        cleaned = super().clean()
        source, prop = cleaned.get("source"), cleaned.get("hubspot_property")
        if source == TrackingMapping.Source.HUBSPOT and not prop:
            self.add_error("hubspot_property", "Name the HubSpot deal property to read.")
        elif source != TrackingMapping.Source.HUBSPOT:
            cleaned["hubspot_property"] = ""
        others = TrackingMapping.objects.exclude(pk=self.instance.pk)
        if self.instance.pk is None and others.count() >= MOST_TRACKED:
            raise forms.ValidationError(
                "Xero takes at most two tracking categories on a line: remove one first."
            )
        return cleaned


@admin_required
def xero_settings(request: HttpRequest) -> HttpResponse:
    """List the connected organisations, offer to connect more; edit the invoice mapping."""
    mapping = InvoiceSettings.current()
    form = InvoiceSettingsForm(request.POST or None, instance=mapping)
    if request.method == "POST" and form.is_valid():
        form.instance._change_reason = f"Changed on the Xero page by {request.user}"
        form.save()
        messages.success(request, "Invoice settings saved: the next invoices use them.")
        return redirect("connectors:xero")
    return render(
        request,
        "connectors/xero.html",
        {
            "connections": _connections(),
            "scopes": settings.XERO_SCOPES,
            "callback": _callback_url(request),
            "form": form,
            "tracking": TrackingMapping.objects.all(),
            "tracking_form": TrackingMappingForm(),
            "tracking_changes": TrackingMapping.history.select_related("history_user")[:10],
            # The default organisation's changes are listed with the organisations.
            "changes": mapping.history.select_related("history_user").exclude(
                history_change_reason__startswith="Default organisation"
            )[:10],
            **organisations_context(),
        },
    )


@admin_required
@require_POST
def xero_tracking(request: HttpRequest) -> HttpResponse:
    """Map a job field to a Xero tracking category (a category already mapped is changed)."""
    found = TrackingMapping.objects.filter(category__iexact=request.POST.get("category", ""))
    form = TrackingMappingForm(request.POST, instance=found.first())
    if form.is_valid():
        form.instance._change_reason = f"Changed on the Xero page by {request.user}"
        saved = form.save()
        messages.success(
            request,
            f"Invoice lines now carry {saved.field_label.lower()} in Xero's tracking category "
            f"'{saved.category}'.",
        )
    else:
        problems = "; ".join(e for errors in form.errors.values() for e in errors)
        messages.error(request, f"The tracking mapping was not saved: {problems}")
    return redirect(reverse("connectors:xero") + "#tracking")


@admin_required
@require_POST
def xero_tracking_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop writing a tracking category on invoice lines."""
    mapping = get_object_or_404(TrackingMapping, pk=pk)
    mapping._change_reason = f"Removed on the Xero page by {request.user}"
    mapping.delete()
    messages.success(request, f"Invoice lines no longer carry '{mapping.category}'.")
    return redirect(reverse("connectors:xero") + "#tracking")


@admin_required
@require_POST
def xero_connect(request: HttpRequest) -> HttpResponse:
    """Send the admin to Xero's consent page, remembering the state to check on return."""
    scopes = " ".join(request.POST.get("scopes", settings.XERO_SCOPES).split())
    if "offline_access" not in scopes.split():
        messages.error(
            request,
            "Keep offline_access in the scopes: without it Xero gives no "
            "refresh token and the connection ends after 30 minutes.",
        )
        return redirect("connectors:xero")
    state = state_new()
    request.session["xero_oauth_state"] = state
    return redirect(
        connect.authorize_url(state=state, scopes=scopes, redirect_uri=_callback_url(request))
    )


@admin_required
def xero_callback(request: HttpRequest) -> HttpResponse:
    """Xero sends the admin back here: check the state, swap the code, list the tenants."""
    if not state_matches(request.session, "xero_oauth_state", request.GET.get("state")):
        return HttpResponseBadRequest(
            "This answer from Xero does not match a Connect request from this browser "
            "(the state differs or has been used). Press Connect on the Xero settings page again."
        )
    if request.GET.get("error"):
        messages.error(request, f"Xero did not connect: {request.GET['error']}.")
        return redirect("connectors:xero")
    try:
        token = connect.code_exchange(
            code=request.GET.get("code", ""), redirect_uri=_callback_url(request)
        )
        tenants = connect.tenants_list(token["access_token"])
    except ConnectorError as error:
        messages.error(request, f"{error.message} {error.fix}")
        return redirect("connectors:xero")
    # Kept encrypted until the admin chooses: the session table is not a secret store.
    pending = json.dumps({"token": token, "tenants": tenants}).encode()
    request.session[PENDING] = fernet().encrypt(pending).decode()
    return redirect("connectors:tenants")


def _pending(request: HttpRequest) -> dict | None:
    sealed = request.session.get(PENDING)
    return json.loads(fernet().decrypt(sealed.encode())) if sealed else None


@admin_required
def xero_tenants(request: HttpRequest) -> HttpResponse:
    """Let the admin pick which of the consented organisations the hub connects."""
    pending = _pending(request)
    if pending is None:
        messages.error(request, "There is no Xero consent waiting; press Connect first.")
        return redirect("connectors:xero")
    if request.method == "POST":
        chosen = set(request.POST.getlist("tenant"))
        tenants = [t for t in pending["tenants"] if t["tenant_id"] in chosen]
        try:
            saved = connect.tenants_connect(token=pending["token"], tenants=tenants)
        except ConnectorError as error:
            messages.error(request, error.message)
        else:
            del request.session[PENDING]
            names = ", ".join(c.tenant_name for c in saved)
            messages.success(request, f"Connected {names}.")
            waiting_resume(request, system="xero")
            return redirect("connectors:xero")
    known = set(XeroConnection.objects.values_list("tenant_id", flat=True))
    return render(
        request, "connectors/xero_tenants.html", {"tenants": pending["tenants"], "known": known}
    )


@admin_required
@require_POST
def xero_custom(request: HttpRequest) -> HttpResponse:
    """Connect the organisation of a Xero Custom Connection (client credentials)."""
    try:
        saved = connect.custom_connect()
    except ConnectorError as error:
        messages.error(request, f"{error.message} {error.fix}")
    else:
        messages.success(request, f"Connected {', '.join(c.tenant_name for c in saved)}.")
        waiting_resume(request, system="xero")
    return redirect("connectors:xero")


@admin_required
@require_POST
def xero_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """Disconnect one organisation; handoffs needing it wait for a new connection."""
    connection = get_object_or_404(XeroConnection, pk=pk)
    messages.success(request, f"{connection.tenant_name}: {connect.disconnect(connection)}")
    return redirect("connectors:xero")
