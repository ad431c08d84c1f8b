"""HubSpot refusing to renew the hub's access token: every handoff that needs HubSpot waits
on one "Reconnect HubSpot" item, and installing the app again resolves it and resumes them."""

from datetime import timedelta

from django.utils import timezone

from connectors.models import HubSpotConnection
from handoffs.models import HandoffRun
from review_queue.models import ReviewItem
from tests.connectors.hubspot.conftest import install, said
from tests.handoffs.test_deal_won_to_job import job_for, mark_won, open_deals_with_company
from tests.helpers import wait_for


def test_a_refused_refresh_is_one_item_and_installing_again_resumes_every_handoff(
    hub, admin, settings
):
    settings.HUBSPOT_AUTHORIZE_URL = f"{hub.sandbox.url}/oauth/authorize"
    install(admin, hub.sandbox)
    # The access token has expired, and HubSpot no longer knows the refresh token.
    HubSpotConnection.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    hub.sandbox.auth.installs_revoke()
    deals = open_deals_with_company(hub, 2)
    for deal in deals:
        mark_won(hub, deal)
    waiting = wait_for(
        lambda: HandoffRun.objects.filter(handoff="deal_won_to_job", state="needs_review").count()
        == 2,
        what="both runs to wait for a person",
    )
    assert waiting
    item = ReviewItem.objects.get(status="open")
    assert (item.kind, item.system, item.title) == ("connection", "hubspot", "Reconnect HubSpot")
    assert item.occurrences == HandoffRun.objects.filter(review_item=item).count() >= 2
    assert "refused to renew the access token" in item.reason
    assert "BAD_REFRESH_TOKEN" in item.vendor_error
    assert HubSpotConnection.objects.get().status == "reconnect_needed"
    page = admin.get(f"/review/{item.pk}/").content.decode()
    assert 'href="/settings/hubspot/">Reconnect HubSpot</a>' in page

    answered = said(install(admin, hub.sandbox))
    assert answered[1].startswith("Reconnect HubSpot: HubSpot is connected (account 62515). Sent ")
    item.refresh_from_db()
    assert (item.status, item.resolved_by.username) == ("resolved", "boss")
    assert HubSpotConnection.objects.get().status == "connected"
    for deal in deals:
        wait_for(lambda deal=deal: job_for(deal), what=f"the job of deal {deal['id']}")
    assert not ReviewItem.objects.filter(status="open").exists()
