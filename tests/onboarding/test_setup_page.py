"""The setup page: each step's state read from what the hub holds, the properties made by a
worker through the HubSpot sandbox, the rules marked reviewed, and admins only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding.first_match import QUIET
from onboarding.models import FirstMatch, SetupMark
from onboarding.steps import setup_steps
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("boss", password="x", is_staff=True)


def states() -> dict[str, bool]:
    return {step.key: step.done for step in setup_steps()}


def test_each_step_shows_what_the_hub_holds_and_the_page_moves_with_it(hub, admin, client):
    client.force_login(admin)
    assert states() == {
        "hubspot": True,  # the environment's private app token
        "xero": False,
        "webhooks": False,
        "properties": False,
        "rules": False,
        "match": False,
    }
    connect_xero(hub)

    client.post(reverse("onboarding:properties"))
    mark = wait_for(lambda: SetupMark.objects.filter(step="properties").first(), what="the check")
    client.post(reverse("onboarding:rules_reviewed"))

    assert mark.ok and "deals.job_number" in mark.note
    assert states() | {"webhooks": None, "match": None} == {
        "hubspot": True,
        "xero": True,
        "webhooks": None,
        "properties": True,
        "rules": True,
        "match": None,
    }
    page = client.get(reverse("onboarding:setup")).content.decode()
    assert "4 of 6 are done" in page
    assert "Reviewed by boss" in page
    assert "job_number" in hub.sandbox.store.properties["deals"]


def test_office_staff_cannot_set_up_the_hub_but_can_decide_proposals(office_staff, client):
    client.force_login(office_staff)

    assert client.get(reverse("onboarding:setup")).status_code in (302, 403)
    assert client.post(reverse("onboarding:match_start")).status_code in (302, 403)
    assert client.get(reverse("onboarding:proposals")).status_code == 200


def test_a_first_match_whose_worker_stopped_says_so_and_how_to_go_on(db):
    match = FirstMatch.objects.create(step="matching")
    FirstMatch.objects.filter(pk=match.pk).update(heartbeat_at=timezone.now() - QUIET * 2)

    (step,) = [s for s in setup_steps() if s.key == "match"]

    assert not step.done
    assert "It stopped at" in step.state and "goes on from there" in step.state
