"""The HubSpot settings page: a private app token or the hub installed as an app, and the
custom properties the hub writes."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connectors.errors import ConnectorError
from connectors.hubspot import connect
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.properties import CUSTOM_PROPERTIES, GROUP, properties_ensure
from connectors.models import HubSpotConnection
from connectors.oauth import state_matches, state_new
from connectors.views import waiting_resume
from integration_hub.permissions import admin_required

STATE = "hubspot_oauth_state"


def _callback_url(request: HttpRequest) -> str:
    return settings.HUBSPOT_REDIRECT_URI or request.build_absolute_uri(
        reverse("connectors:hubspot_callback")
    )


def _connected(request: HttpRequest, connection: HubSpotConnection) -> None:
    messages.success(
        request,
        f"Connected HubSpot account {connection.hub_id} ({connection.get_kind_display()}).",
    )
    waiting_resume(request, system="hubspot")


@admin_required
def hubspot_settings(request: HttpRequest) -> HttpResponse:
    """Show the HubSpot connection, the ways to connect, and the custom properties."""
    connection = HubSpotConnection.current()
    granted = set(connection.scopes.split()) if connection else set()
    return render(
        request,
        "connectors/hubspot.html",
        {
            "connection": connection,
            "scopes": [(s, s in granted) for s in connect.REQUIRED_SCOPES],
            "callback": _callback_url(request),
            "properties": CUSTOM_PROPERTIES,
            "group": GROUP,
        },
    )


@admin_required
@require_POST
def hubspot_token(request: HttpRequest) -> HttpResponse:
    """Check a private app token with HubSpot and keep it."""
    try:
        connection = connect.private_app_connect(request.POST.get("token", ""))
    except ConnectorError as error:
        messages.error(request, f"{error.message} {error.fix}".strip())
    else:
        _connected(request, connection)
    return redirect("connectors:hubspot")


@admin_required
@require_POST
def hubspot_install(request: HttpRequest) -> HttpResponse:
    """Send the admin to HubSpot's install page, remembering the state to check on return."""
    if not settings.HUBSPOT_CLIENT_ID:
        messages.error(request, "Set HUBSPOT_CLIENT_ID (and HUBSPOT_CLIENT_SECRET) first.")
        return redirect("connectors:hubspot")
    state = state_new()
    request.session[STATE] = state
    return redirect(connect.authorize_url(state=state, redirect_uri=_callback_url(request)))


@admin_required
def hubspot_callback(request: HttpRequest) -> HttpResponse:
    """HubSpot sends the admin back here: check the state, swap the code, keep the tokens."""
    if not state_matches(request.session, STATE, request.GET.get("state")):
        return HttpResponseBadRequest(
            "This answer from HubSpot does not match an Install request from this browser "
            "(the state differs or has been used). Press Install on the HubSpot page again."
        )
    if request.GET.get("error"):
        messages.error(request, f"HubSpot did not install the app: {request.GET['error']}.")
        return redirect("connectors:hubspot")
    try:
        connection = connect.oauth_connect(
            code=request.GET.get("code", ""), redirect_uri=_callback_url(request)
        )
    except ConnectorError as error:
        messages.error(request, f"{error.message} {error.fix}".strip())
    else:
        _connected(request, connection)
    return redirect("connectors:hubspot")


@admin_required
@require_POST
def hubspot_properties(request: HttpRequest) -> HttpResponse:
    """Create the custom properties the hub writes that HubSpot does not have yet."""
    try:
        report = properties_ensure(HubSpotClient())
    except ConnectorError as error:
        messages.error(
            request, f"{error.message} Press the button again: it makes only what is missing."
        )
    else:
        messages.success(request, report.summary())
        for problem in report.mismatched:
            messages.warning(request, problem)
    return redirect("connectors:hubspot")


@admin_required
@require_POST
def hubspot_disconnect(request: HttpRequest) -> HttpResponse:
    """Forget the stored connection: the hub uses HUBSPOT_ACCESS_TOKEN again, if set."""
    if connect.disconnect():
        messages.success(request, "Forgot the HubSpot connection and its tokens.")
    else:
        messages.info(request, "There was no stored HubSpot connection.")
    return redirect("connectors:hubspot")
