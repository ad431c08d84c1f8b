"""Helpers for tests that go through the Xero sandbox: a connection, a finished job."""

from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from connectors.models import XeroConnection
from connectors.sandbox.xero import console
from connectors.sandbox.xero.money import MS_DATE
from operations import services
from operations.models import Job
from tests.helpers import wait_for


def connect_xero(hub, org=None) -> XeroConnection:
    """Connect one sandbox organisation (the first, Demo Trades Pty Ltd, unless named)."""
    org = org or xero_org(hub)
    tokens = hub.xero.store.issue_tokens(tenants=[org.tenant_id])
    return XeroConnection.objects.create(
        tenant_id=org.tenant_id,
        tenant_name=org.name,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=timezone.now() + timedelta(minutes=30),
        scopes="offline_access",
    )


def won_job(hub, name: str) -> Job:
    """Mark the sandbox deal named `name` won; return the job the hub made for it."""
    deal = next(d for d in hub.sandbox.store.list("deals") if name in d["properties"]["dealname"])
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"})
    return wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")


def finished_job(hub, django_user_model, name: str) -> Job:
    """Win the deal named `name` and finish its job."""
    job = won_job(hub, name)
    services.job_transition(job=job, to="in_progress")
    tech, _ = django_user_model.objects.get_or_create(username="tech")
    services.job_complete(job=job, by=tech, note="Done.")
    return job


def xero_org(hub):
    """The sandbox organisation the tests connect (Demo Trades Pty Ltd)."""
    return next(iter(hub.xero.store.organisations.values()))


def xero_second_org(hub):
    """The sandbox's second organisation (Demo Trades Brisbane Pty Ltd)."""
    return list(hub.xero.store.organisations.values())[1]


def xero_invoices(hub) -> list[dict]:
    return [i for org in hub.xero.store.organisations.values() for i in org.invoices.values()]


def bookkeeper(hub, invoice: dict, verb: str, **form) -> None:
    """Act in the sandbox's console as the bookkeeper: approve, pay, credit, void or delete
    an invoice."""
    tenant = invoice.get("_tenant") or next(iter(hub.xero.store.organisations))
    console.act(hub.xero.store, [tenant, "invoices", invoice["InvoiceID"], verb], form)


def invoiced_job(hub, django_user_model, name: str = "safety switch upgrade") -> tuple[Job, dict]:
    """Connect Xero, finish the job of the deal named `name`; return it and its draft invoice."""
    connect_xero(hub)
    job = finished_job(hub, django_user_model, name)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    return job, invoice


def day(xero_date: str) -> date:
    """The date in one of Xero's /Date(ms+0000)/ values."""
    return datetime.fromtimestamp(int(MS_DATE.match(xero_date)[1]) / 1000, UTC).date()
