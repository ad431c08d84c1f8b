"""Every URL the hub serves, tried by each kind of visitor: one permission scheme for all.

The endpoints come from the URLconf itself, so a new URL is tested the day it is added:
it is office staff's unless it is on the public or the admin-only list below, and a
URL meant to be public fails here until someone adds it to PUBLIC on purpose.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern
from rest_framework.views import APIView

from connectors.models import TrackingMapping, XeroConnection
from handoffs.models import HandoffRun, ReconcileRun
from integration_hub.permissions import STAFF_GROUP
from operations.models import JobEvidence, JobImport
from ownership.models import FieldRule, InvoiceRoute
from ownership.services import field_rules_defaults_load
from tests.operations.factories import JobFactory
from tests.operations.test_job_rules import JPEG
from tests.review_queue.factories import ReviewItemFactory

# Anyone may reach these: signing in and out, the health check, the signed webhooks.
PUBLIC = {"login", "logout", "healthz", "handoffs:hubspot_webhook", "handoffs:xero_webhook"}
# Only admins: whatever changes the hub's configuration. Everything else is office staff's.
ADMIN_ONLY = {
    "ownership:rule_edit",
    "onboarding:setup",
    "onboarding:match_start",
    "onboarding:properties",
    "onboarding:rules_reviewed",
}
ADMIN_ONLY_NAMESPACES = {"admin", "connectors"}
# Django refuses an autocomplete request that names no model field, whoever asks.
REFUSED_FOR_EVERYONE = {"admin:autocomplete"}

PAGE_METHODS = ("get", "post")
API_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern, with every level of the URLconf that leads to it."""

    patterns: tuple
    namespace: str
    name: str
    view: object

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}:{self.name}" if self.namespace else self.name

    @property
    def route(self) -> str:
        return "".join(str(p) for p in self.patterns)

    @property
    def is_api(self) -> bool:
        return issubclass(getattr(self.view, "cls", object), APIView)


def endpoints(resolver: URLResolver | None = None, above=(), namespace="") -> list[Endpoint]:
    """Walk the URLconf and return every pattern a request can reach."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            found += endpoints(entry, (*above, entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            found.append(
                Endpoint((*above, entry.pattern), namespace, entry.name or "", entry.callback)
            )
    return found


def concrete_path(endpoint: Endpoint, values: dict[str, str]) -> str:
    """Fill each pattern's parameters with real values and return the path."""
    path = ""
    for pattern in endpoint.patterns:
        text = str(pattern)
        if isinstance(pattern, RoutePattern):
            for name, converter in pattern.converters.items():
                text = re.sub(rf"<(?:[^>:]+:)?{name}>", converter.to_url(values[name]), text)
            path += text
            continue
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m[1]], text)
        text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
        text = text.replace("/?", "/").replace(r"\.", ".")
        assert not re.search(r"[\\^$()|?*+\[\]]", text), f"cannot fill {endpoint.route}"
        path += text
    return "/" + path


def decided_class(endpoint: Endpoint) -> str:
    if endpoint.qualified_name in PUBLIC:
        return "public"
    if endpoint.qualified_name in ADMIN_ONLY or endpoint.namespace in ADMIN_ONLY_NAMESPACES:
        return "admin"
    return "staff"


ALL = endpoints()


@pytest.fixture
def people(django_user_model, office_staff):
    plain = django_user_model.objects.create_user("plain")
    admin = django_user_model.objects.create_user("boss", is_staff=True, is_superuser=True)
    return {"anonymous": None, "plain": plain, "staff": office_staff, "admin": admin}


@pytest.fixture
def values(people, settings, tmp_path) -> dict[str, dict[str, str]]:
    """Real rows for every parameter, so a view that looks a row up before checking fails."""
    settings.MEDIA_ROOT = tmp_path
    field_rules_defaults_load()  # a transactional test before this one emptied the table
    job = JobFactory()
    evidence = JobEvidence.objects.create(
        job=job,
        file=ContentFile(JPEG, name="site.jpg"),
        kind="photo",
        content_type="image/jpeg",
        size=len(JPEG),
    )
    spreadsheet = JobImport.objects.create(
        file=ContentFile(b"number,customer,title\nJ-9,Cafe,Paint\n", name="jobs.csv"),
        filename="jobs.csv",
    )
    run = HandoffRun.objects.create(
        handoff="deal_won_to_job",
        key="deal:1",
        record_system="hubspot",
        record_type="deal",
        record_ref="1",
        state=HandoffRun.State.DONE,
    )
    common = {
        "number": job.number,
        "action": "status",
        "system": "operations",
        "type": "job",
        "ref": job.number,
        "format": "json",
        "app_label": "auth",
        "object_id": str(people["admin"].pk),
        "id": str(people["admin"].pk),
        "content_type_id": "1",
        "url": "nowhere/",
    }
    pk_by_name = {
        "handoffs:run_detail": run.pk,
        "handoffs:run_replay": run.pk,
        "handoffs:drift_csv": ReconcileRun.objects.create().pk,
        "run-detail": run.pk,
        "run-replay": run.pk,
        "operations:job_import_preview": spreadsheet.pk,
        "operations:job_import_progress": spreadsheet.pk,
        "operations:evidence": evidence.pk,
        "ownership:rule_edit": FieldRule.objects.first().pk,
        "connectors:disconnect": XeroConnection.objects.create(
            tenant_id="t-1", tenant_name="Org"
        ).pk,
        "connectors:tracking_remove": TrackingMapping.objects.create(
            category="Region", source="region"
        ).pk,
        "connectors:route_delete": InvoiceRoute.objects.create(
            kind="pipeline", pipeline="default", organisation="t-1", organisation_name="Org"
        ).pk,
    }
    item = ReviewItemFactory().pk
    for endpoint in ALL:
        name = endpoint.qualified_name
        if name.startswith(("review_queue:", "review-item-")):
            pk_by_name[name] = item
    return {"common": common, "pk": pk_by_name}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def mismatch(endpoint: Endpoint, role: str, response) -> str | None:
    """Return what is wrong with this answer for this visitor, or None."""
    status, kind = response.status_code, decided_class(endpoint)
    if status >= 500:
        return f"server error {status}"
    if role == "anonymous":
        if endpoint.is_api:
            return None if status in (401, 403) else f"{status}, expected 401 or 403"
        if status != 302:
            return f"{status}, expected a redirect to the login page"
        target = urlsplit(response["Location"]).path
        login = resolve_url("login")
        return None if target == login else f"redirected to {target}, not {login}"
    refused = {"plain": True, "staff": kind == "admin", "admin": False}[role]
    if endpoint.qualified_name in REFUSED_FOR_EVERYONE and role == "admin":
        return None
    if refused and status != 403:
        return f"{status}, expected 403"
    if not refused and status == 403:
        return "403, expected to be let in"
    return None


@pytest.mark.django_db
def test_every_url_has_a_decision_and_the_public_ones_exist():
    names = {endpoint.qualified_name for endpoint in ALL}
    assert PUBLIC | ADMIN_ONLY | REFUSED_FOR_EVERYONE <= names
    assert len(ALL) > 50  # the walk reached the included URLconfs, the admin and the API
    assert not [e.route for e in ALL if "media" in e.route]  # uploads have no public URL


@pytest.mark.django_db
@pytest.mark.parametrize(
    "endpoint",
    [e for e in ALL if decided_class(e) != "public"],
    ids=lambda e: f"{e.qualified_name or '-'} {e.route}",
)
def test_each_visitor_gets_the_answer_their_role_allows(endpoint, people, values, settings):
    # Nothing here may reach the real Xero or HubSpot: their calls fail at once.
    settings.XERO_TOKEN_URL = "http://127.0.0.1:9/connect/token"
    settings.XERO_IDENTITY_URL = "http://127.0.0.1:9"
    settings.HUBSPOT_API_BASE_URL = "http://127.0.0.1:9"
    kwargs = dict(values["common"])
    if any("pk" in str(p) for p in endpoint.patterns):
        assert endpoint.qualified_name in values["pk"], (
            f"Give this test a real row for {endpoint.qualified_name} (its <pk>)."
        )
        kwargs["pk"] = str(values["pk"][endpoint.qualified_name])
    path = concrete_path(endpoint, kwargs)
    match = resolve(path)
    assert (match.namespace, match.url_name or "") == (endpoint.namespace, endpoint.name), path
    wrong = []
    for role, user in people.items():
        for method in API_METHODS if endpoint.is_api else PAGE_METHODS:
            # A fresh login each time: one of these requests may be the admin's logout.
            response = getattr(client_for(user), method)(path)
            if problem := mismatch(endpoint, role, response):
                wrong.append(f"{method.upper()} {path} as {role}: {problem}")
    assert not wrong, "\n".join(wrong)


def test_a_plain_login_gets_a_page_in_plain_words_not_the_login_form(db, people, client):
    client.force_login(people["plain"])
    response = client.get("/review/")
    page = response.content.decode()
    assert response.status_code == 403
    assert f"add you to the &#x27;{STAFF_GROUP}&#x27; group" in page
    assert 'name="password"' not in page and "Review queue</a>" not in page  # no menu either
    Group.objects.get(name=STAFF_GROUP).user_set.add(people["plain"])
    assert client.get("/review/").status_code == 200


def test_staff_are_told_that_settings_are_for_admins(db, people, client):
    client.force_login(people["staff"])
    response = client.get("/admin/")
    assert (
        response.status_code == 403 and "Only admins can change this" in response.content.decode()
    )


@pytest.mark.parametrize("path", ["/ownership/{rule}/", "/settings/xero/", "/settings/hubspot/"])
def test_staff_opening_an_admin_page_are_told_who_the_admins_are(
    db, people, client, django_user_model, path
):
    django_user_model.objects.create_user(
        "ann", "ann@example.com", first_name="Ann", last_name="Lee", is_staff=True
    )
    django_user_model.objects.create_user("gone", is_staff=True, is_active=False)
    client.force_login(people["staff"])
    field_rules_defaults_load()
    response = client.get(path.format(rule=FieldRule.objects.first().pk))
    page = response.content.decode()
    assert response.status_code == 403 and 'name="password"' not in page
    assert "Only admins can change this." in page
    assert "The hub's admins: <strong>boss</strong>, <strong>Ann Lee</strong> (" in page
    assert 'href="mailto:ann@example.com"' in page
    assert "<strong>boss</strong>" in page and "gone" not in page


def test_the_api_schema_is_for_office_staff(db, people):
    assert Client().get("/api/schema/").status_code == 401
    assert client_for(people["plain"]).get("/api/schema/").status_code == 403
    schema = client_for(people["staff"]).get("/api/schema/")
    assert schema.status_code == 200 and b"/api/jobs/" in schema.content
