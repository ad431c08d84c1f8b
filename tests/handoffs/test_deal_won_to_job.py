"""A deal won in HubSpot becomes exactly one job, end to end through the sandbox and a worker."""

import json
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from connectors.hubspot.webhooks import delivery_key
from handoffs.models import HandoffRun, InboundEvent
from handoffs.sweep import sweep
from operations.models import Job
from ownership.models import Link
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.helpers import hubspot_event, signed_hubspot_post, wait_for


def deal_named(hub, fragment: str) -> dict:
    return next(
        d for d in hub.sandbox.store.list("deals") if fragment in d["properties"]["dealname"]
    )


def open_deals_with_company(hub, count: int) -> list[dict]:
    store = hub.sandbox.store
    deals = [
        d
        for d in store.list("deals")
        if d["properties"]["dealstage"] not in ("closedwon", "closedlost", "2001003", "2001004")
        and store.associated_ids("deals", d["id"], "companies")
        and store.associated_ids("deals", d["id"], "line_items")
    ]
    assert len(deals) >= count, "the demo seed needs more open deals with a company"
    return deals[:count]


def mark_won(hub, deal: dict) -> None:
    hub.sandbox.store.update(
        "deals", deal["id"], {"dealstage": "closedwon"}, change_source="CRM_UI"
    )


def hubspot_calls(run: HandoffRun) -> list[str]:
    """The HubSpot calls a run's attempts made, besides reading the pipelines (which the
    hub keeps a few minutes, so a run may or may not read them)."""
    return [
        c["operation"]
        for attempt in run.attempt_log.all()
        for c in attempt.calls
        if c["system"] == "hubspot" and not c["operation"].startswith("PipelinesApi")
    ]


def job_for(deal: dict) -> Job | None:
    return Job.objects.filter(origin_system="hubspot", origin_ref=deal["id"]).first()


def test_it_creates_the_job_with_what_the_deal_promised(hub):
    deal = open_deals_with_company(hub, 1)[0]
    mark_won(hub, deal)
    job = wait_for(lambda: job_for(deal), what="the job")
    store = hub.sandbox.store
    company = store.get("companies", store.associated_ids("deals", deal["id"], "companies")[0])
    items = [
        store.get("line_items", i) for i in store.associated_ids("deals", deal["id"], "line_items")
    ]
    assert job.title == deal["properties"]["dealname"]
    assert job.customer.name == company["properties"]["name"]
    assert job.amount == Decimal(deal["properties"]["amount"])
    assert job.notes == (deal["properties"].get("description") or "")
    expected_site = deal["properties"].get("site_address") or company["properties"]["address"]
    assert job.site_address.startswith(expected_site)
    assert sorted((line.item_code, line.quantity) for line in job.lines.all()) == sorted(
        (i["properties"]["hs_sku"], Decimal(i["properties"]["quantity"])) for i in items
    )
    assert job.number.startswith("J-")
    assert Link.objects.filter(system="hubspot", record_type="customer").count() == 1
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="deal_won_to_job", state="done").first(),
        what="the run to end (the job is made a moment before)",
    )
    assert run.summary.startswith(f"Created job {job.number}")


def test_it_creates_one_job_when_the_won_event_arrives_twice(hub):
    deal = open_deals_with_company(hub, 1)[0]
    body = json.dumps([hubspot_event(deal["id"])]).encode()
    # The CRM says won, then the same change is delivered again by a different eventId.
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"}, notify=False)
    secret = settings.HUBSPOT_CLIENT_SECRET
    signed_hubspot_post(hub.hubspot_webhook_url, body, secret=secret)
    again = json.dumps([hubspot_event(deal["id"], event_id=2)]).encode()
    signed_hubspot_post(hub.hubspot_webhook_url, again, secret=secret)
    stage_events = InboundEvent.objects.filter(source="hubspot", payload__propertyName="dealstage")
    wait_for(lambda: stage_events.filter(state="processed").count() == 2, what="both events")
    won = HandoffRun.objects.filter(handoff="deal_won_to_job")
    wait_for(lambda: won.filter(state="done").exists(), what="the run")
    assert Job.objects.filter(origin_ref=deal["id"]).count() == 1
    assert won.count() == 1


def test_a_won_deal_becomes_its_job_in_four_hubspot_calls(hub):
    deal = open_deals_with_company(hub, 1)[0]
    mark_won(hub, deal)
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="deal_won_to_job", state="done").first(),
        what="the run",
    )
    # The deal with its associations, the company with its people, the people, the lines.
    assert hubspot_calls(run) == [
        "BasicApi.get_by_id",
        "BasicApi.get_by_id",
        "BatchApi.read",
        "BatchApi.read",
    ]
    assert job_for(deal).customer.contact_name


def test_a_stage_change_that_is_not_a_win_reads_no_deal(hub):
    deal = open_deals_with_company(hub, 1)[0]
    stage = (
        "qualifiedtobuy" if deal["properties"]["dealstage"] != "qualifiedtobuy" else "contractsent"
    )
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": stage})
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="deal_won_to_job", state="skipped").first(),
        what="the run",
    )
    assert hubspot_calls(run) == []
    assert "not a won stage" in run.summary
    assert job_for(deal) is None


def test_a_rerun_after_a_worker_died_finds_the_job_instead_of_making_another(hub):
    deal = open_deals_with_company(hub, 1)[0]
    mark_won(hub, deal)
    job = wait_for(lambda: job_for(deal), what="the job")
    won = HandoffRun.objects.filter(handoff="deal_won_to_job", state="done")
    run = wait_for(lambda: won.first(), what="the run")
    # As if the worker was killed after creating the job but before recording the run:
    # it stopped renewing its lease, which lapsed a while ago.
    long_ago = timezone.now() - timedelta(hours=1)
    HandoffRun.objects.filter(pk=run.pk).update(
        state="running", lease="gone", lease_holder="elsewhere:1", lease_expires_at=long_ago
    )
    assert sweep()["runs"] == 1
    run = wait_for(
        lambda: HandoffRun.objects.filter(pk=run.pk, state="done", attempts=1).first(),
        what="the re-run (the lost attempt counts as one)",
    )
    assert run.summary.startswith(f"Found the existing job {job.number}")
    assert Job.objects.filter(origin_ref=deal["id"]).count() == 1


def test_the_sweeper_processes_an_event_whose_task_was_lost(hub):
    deal = open_deals_with_company(hub, 1)[0]
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"}, notify=False)
    payload = hubspot_event(deal["id"])
    # Handed to the broker long ago, which lost it (Redis wiped): still pending.
    long_ago = timezone.now() - timedelta(hours=1)
    InboundEvent.objects.create(
        source="hubspot",
        delivery_key=delivery_key(payload),
        event_type=payload["subscriptionType"],
        object_id=deal["id"],
        payload=payload,
        enqueued_at=long_ago,
    )
    assert sweep() == {"events": 1, "runs": 0, "outbox": 0, "checks_unfinished": 0}
    wait_for(lambda: job_for(deal), what="the job from the swept event")
    assert sweep() == {"events": 0, "runs": 0, "outbox": 0, "checks_unfinished": 0}


def test_a_won_deal_without_a_company_becomes_one_review_item(hub):
    deal = deal_named(hub, "no company")
    mark_won(hub, deal)
    item = wait_for(lambda: ReviewItem.objects.filter(status="open").first(), what="the item")
    assert item.kind == "missing_data"
    assert (item.system, item.record_type, item.record_ref) == ("hubspot", "deal", deal["id"])
    assert "has no company" in item.reason
    assert "associate the customer's company" in item.action
    # Moving the deal out and back in again is the same root cause: still one item.
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "contractsent"})
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "2001003"})
    wait_for(
        lambda: HandoffRun.objects.count() == 3
        and not HandoffRun.objects.exclude(state__in=["needs_review", "skipped", "done"]).exists(),
        what="all three runs to finish",
    )
    # A run acts on the deal as it is now, so the "contractsent" run may also see it won.
    assert HandoffRun.objects.filter(state="needs_review").count() >= 2
    assert ReviewItem.objects.filter(status="open").count() == 1
    assert not Job.objects.exists()


def test_a_rejected_token_becomes_one_item_and_retry_resumes_every_waiting_handoff(hub):
    deals = open_deals_with_company(hub, 2)
    hub.sandbox.store.set_fault(status=401)
    for deal in deals:
        mark_won(hub, deal)
    wait_for(lambda: HandoffRun.objects.filter(state="needs_review").count() == 2, what="runs")
    item = ReviewItem.objects.get(status="open")
    assert (item.kind, item.title, item.occurrences) == ("connection", "Reconnect HubSpot", 2)
    assert "EXPIRED_AUTHENTICATION" in item.vendor_error or "401" in item.vendor_error
    assert HandoffRun.objects.get(key__contains=deals[0]["id"]).attempts == 1  # no retries
    hub.sandbox.store.clear_faults()
    outcome = review_item_resolve(item=item, by=None, action="retry")
    assert outcome == "Sent 2 handoffs back to the workers."
    wait_for(lambda: all(job_for(deal) for deal in deals), what="both jobs after the retry")


def test_a_crm_that_keeps_failing_is_retried_then_becomes_one_item(hub):
    deals = open_deals_with_company(hub, 2)
    hub.sandbox.store.set_fault(status=500)
    for deal in deals:
        mark_won(hub, deal)
    wait_for(
        lambda: HandoffRun.objects.filter(state="needs_review").count() == 2,
        what="retries to run out",
    )
    item = ReviewItem.objects.get(status="open")
    assert (item.kind, item.title) == ("unavailable", "HubSpot is not answering")
    run = HandoffRun.objects.get(key__contains=deals[0]["id"])
    assert [a.outcome for a in run.attempt_log.all()] == ["retry", "retry", "failed"]
    assert not Job.objects.exists()


def test_it_waits_as_long_as_retry_after_says_and_then_succeeds(hub):
    deal = open_deals_with_company(hub, 1)[0]
    hub.sandbox.store.set_fault(status=429, count=1, retry_after=2)
    mark_won(hub, deal)
    job = wait_for(lambda: job_for(deal), what="the job after the 429")
    run = HandoffRun.objects.get(handoff="deal_won_to_job")
    first, second = run.attempt_log.all()
    assert first.outcome == "waited" and first.error_code == "rate_limited"
    assert run.attempts == 0  # waiting for a limit is not a failed attempt
    assert (second.started_at - first.finished_at).total_seconds() >= 2
    assert job.number


def test_a_likely_duplicate_customer_becomes_one_item_and_linking_it_makes_the_job(
    hub, office_staff
):
    from operations.models import Customer

    existing = Customer.objects.create(
        name="Kestrel Property Group Pty Ltd", email="accounts@x.example"
    )
    deals = [
        d
        for d in hub.sandbox.store.list("deals")
        if d["properties"]["dealname"].startswith("Kestrel")
    ]
    for deal in deals:
        mark_won(hub, deal)
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="possible_duplicate").first(), what="item"
    )
    wait_for(
        lambda: HandoffRun.objects.filter(state="needs_review").count() == 2, what="both deals"
    )
    assert ReviewItem.objects.filter(status="open").count() == 1  # one company, one item
    assert item.details["candidates"] == [
        {"id": str(existing.pk), "name": existing.name, "why": "the same name"}
    ]
    assert not Job.objects.exists() and Customer.objects.count() == 1
    values = {"customer": str(existing.pk)}
    preview = review_item_preview(item=item, action="merge_existing", values=values)
    assert "fills its empty details from HubSpot" in preview and "phone: 02 9555 0188" in preview
    review_item_resolve(item=item, by=office_staff, action="merge_existing", values=values)
    wait_for(lambda: Job.objects.count() == 2, what="both jobs for the existing customer")
    assert set(Job.objects.values_list("customer_id", flat=True)) == {existing.pk}
    existing.refresh_from_db()
    assert existing.phone == "02 9555 0188" and Customer.objects.count() == 1


def test_confirming_a_new_customer_creates_it(hub, office_staff):
    from operations.models import Customer

    Customer.objects.create(name="Harbour View Cafe", email="other@y.example")
    deal = deal_named(hub, "quarterly maintenance")
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "2001003"})
    # Staff answer the item the won deal waits on (as the queue shows it).
    waiting = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="deal_won_to_job", state="needs_review", review_item__isnull=False
        ).first(),
        what="the won deal to wait on the item",
    )
    item = waiting.review_item
    assert item.kind == "possible_duplicate"
    review_item_resolve(item=item, by=office_staff, action="create_new")
    job = wait_for(lambda: job_for(deal), what="the job")
    assert Customer.objects.filter(name="Harbour View Cafe").count() == 2
    assert job.customer.email == "sophie@harbourviewcafe.com.au"
