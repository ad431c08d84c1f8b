from celery import shared_task
from django.conf import settings

from connectors.errors import ConnectorError
from connectors.registry import crm
from onboarding.first_match import MatchBusy, first_match
from onboarding.models import SetupMark
from onboarding.steps import PROPERTIES


@shared_task(
    name="onboarding.tasks.first_match",
    soft_time_limit=settings.RECONCILE_MAX_SECONDS,
    time_limit=settings.RECONCILE_MAX_SECONDS + 60,
)
def match_customers(asked_by: str = "") -> int | None:
    try:
        return first_match(asked_by=asked_by).pk
    except MatchBusy:
        return None  # the one running already goes on


@shared_task(name="onboarding.tasks.hubspot_properties")
def hubspot_properties(user_id: int | None = None) -> str:
    """Make the HubSpot properties the hub writes; keep what was found for the setup page."""
    try:
        report = crm().properties_ensure()
    except ConnectorError as error:
        ok, note = False, f"{error.message} Press the button again: it makes only what is missing."
    else:
        ok, note = not report.mismatched, " ".join([report.summary(), *report.mismatched])
    SetupMark.objects.update_or_create(
        step=PROPERTIES, defaults={"ok": ok, "note": note, "by_id": user_id}
    )
    return note
