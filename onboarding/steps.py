"""The setup steps, in order, and where each stands: read from what the hub holds, never
by asking a vendor (the page shows fast, whatever HubSpot and Xero are doing).

1. HubSpot connected      a stored connection (or the environment's private app token)
2. Xero connected         at least one organisation connected
3. Webhooks reachable     a signed delivery from each accepted (Xero's intent-to-receive
                          counts; HubSpot's "Test" of the subscription sends one)
4. HubSpot properties     the hub's properties made or found (onboarding.tasks)
5. Ownership rules        an admin said they reviewed them (or changed one)
6. First match            done, and no proposal left to decide
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from connectors.models import HubSpotConnection, XeroConnection
from handoffs.models import WebhookDelivery
from onboarding.first_match import QUIET
from onboarding.models import FirstMatch, SetupMark
from ownership.models import FieldRule, Proposal

PROPERTIES, RULES = "properties", "rules"


@dataclass(frozen=True)
class Step:
    """One setup step: done or not, what the hub sees, and where to do it."""

    key: str
    title: str
    done: bool
    state: str
    url: str = ""


def _hubspot() -> Step:
    connection = HubSpotConnection.current()
    if connection is not None:
        ok = connection.status == HubSpotConnection.Status.CONNECTED
        state = f"{connection.get_kind_display()}: {connection.get_status_display().lower()}."
    else:
        ok = bool(settings.HUBSPOT_ACCESS_TOKEN)
        state = (
            "Using the private app token from the environment (HUBSPOT_ACCESS_TOKEN)."
            if ok
            else "Not connected: enter a private app token or install the hub as an app."
        )
    return Step("hubspot", "Connect HubSpot", ok, state, reverse("connectors:hubspot"))


def _xero() -> Step:
    names = list(
        XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED).values_list(
            "tenant_name", flat=True
        )
    )
    state = f"Connected: {', '.join(names)}." if names else "No organisation connected yet."
    return Step("xero", "Connect Xero", bool(names), state, reverse("connectors:xero"))


def _webhooks() -> Step:
    heard = {}
    for source, label in (("xero", "Xero"), ("hubspot", "HubSpot")):
        last = (
            WebhookDelivery.objects.filter(
                source=source,
                outcome__in=(WebhookDelivery.Outcome.ACCEPTED, WebhookDelivery.Outcome.DUPLICATE),
            )
            .order_by("-received_at")
            .values_list("received_at", flat=True)
            .first()
        )
        heard[label] = last
    said = [
        f"{label}: last signed delivery {at:%d %b %Y %H:%M}."
        if at
        else f"{label}: none yet ({_how_to_test(label)})."
        for label, at in heard.items()
    ]
    return Step(
        "webhooks",
        "Webhooks reach the hub",
        all(heard.values()),
        " ".join(said),
        reverse("handoffs:activity"),
    )


def _how_to_test(label: str) -> str:
    if label == "Xero":
        return "in Xero's developer portal, save the webhook: Xero sends its intent-to-receive"
    return "in the HubSpot app's Webhooks settings, press Test on a subscription"


def _properties() -> Step:
    mark = SetupMark.objects.filter(step=PROPERTIES).first()
    if mark is None:
        return Step(
            PROPERTIES,
            "Make the HubSpot properties the hub writes",
            False,
            "Not checked yet.",
        )
    return Step(PROPERTIES, "Make the HubSpot properties the hub writes", mark.ok, mark.note)


def _rules() -> Step:
    mark = SetupMark.objects.filter(step=RULES).first()
    changed = FieldRule.history.filter(history_user__isnull=False).order_by("-history_date")
    edit = changed.select_related("history_user").first()
    if mark is not None:
        state = f"Reviewed by {mark.by or 'an admin'} on {mark.at:%d %b %Y}."
    elif edit is not None:
        state = f"Changed by {edit.history_user} on {edit.history_date:%d %b %Y}."
    else:
        state = "Not reviewed yet: check who owns each field, then say so here."
    return Step(
        RULES,
        "Review the ownership rules",
        mark is not None or edit is not None,
        state,
        reverse("ownership:rule_list"),
    )


def _first_match() -> Step:
    match = FirstMatch.objects.first()
    open_ones = Proposal.objects.filter(state=Proposal.State.OPEN).count()
    if match is None:
        state = "Not run yet."
    elif match.state == FirstMatch.State.RUNNING and match.heartbeat_at < timezone.now() - QUIET:
        state = (
            f"It stopped at {match.heartbeat_at:%H:%M} (its worker stopped or was restarted). "
            "Run it again: it goes on from there."
        )
    elif match.state == FirstMatch.State.RUNNING:
        state = f"Running: {match.read} customers read, {match.matched} linked so far."
    elif match.state == FirstMatch.State.FAILED:
        state = f"Did not finish: {match.problem} Run it again: it goes on from there."
    else:
        state = (
            f"Done {match.finished_at:%d %b %Y %H:%M}: {match.matched} linked, "
            f"{match.proposed} proposed, {match.alone} in one system only; "
            f"{open_ones} proposal(s) left to decide."
        )
    done = match is not None and match.state == FirstMatch.State.DONE and not open_ones
    return Step("match", "Match the customers and import the work in flight", done, state)


def setup_steps() -> list[Step]:
    """Every setup step, in the order to take them."""
    return [_hubspot(), _xero(), _webhooks(), _properties(), _rules(), _first_match()]
