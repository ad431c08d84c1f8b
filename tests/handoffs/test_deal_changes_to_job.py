"""A deal's amount changes in the CRM: a scheduled job follows; a started job goes to review."""

from decimal import Decimal

from handoffs.models import HandoffRun
from operations import services
from operations.models import Job
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.helpers import wait_for


def won_job(hub) -> Job:
    deal = next(
        d for d in hub.sandbox.store.list("deals") if "common-area" in d["properties"]["dealname"]
    )
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"})
    return wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")


def change_the_quote(hub, job: Job) -> None:
    store = hub.sandbox.store
    line = store.get("line_items", store.associated_ids("deals", job.origin_ref, "line_items")[0])
    store.update("line_items", line["id"], {"quantity": "40"}, notify=False)
    store.update("deals", job.origin_ref, {"amount": "8640.00"}, change_source="CRM_UI")


def test_a_scheduled_job_follows_the_deal(hub):
    job = won_job(hub)
    change_the_quote(hub, job)
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="deal_changes_to_job", state="done").first(),
        what="the update",
    )
    job.refresh_from_db()
    assert job.amount == Decimal("8640.00")
    assert sorted(line.quantity for line in job.lines.all()) == [Decimal("26"), Decimal("40")]
    assert run.result["before"]["amount"] == "7480.00"
    assert not ReviewItem.objects.exists()


def test_a_started_job_is_not_edited_silently(hub, office_staff):
    job = won_job(hub)
    services.job_transition(job=job, to="in_progress")
    change_the_quote(hub, job)
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="quote_changed").first(), what="the item"
    )
    assert "amount 7480.00 → 8640.00" in item.reason
    assert Job.objects.get(pk=job.pk).amount == Decimal("7480.00")
    preview = review_item_preview(item=item, action="apply_to_job")
    assert "- 32 x LED panel light 600x600" in preview and "+ 40 x LED panel light" in preview
    review_item_resolve(item=item, by=office_staff, action="apply_to_job")
    job.refresh_from_db()
    assert (job.amount, job.status) == (Decimal("8640.00"), "in_progress")
    assert job.history.first().history_user == office_staff


def test_a_customer_address_change_flags_the_active_job_once(hub):
    job = won_job(hub)
    company = hub.sandbox.store.associated_ids("deals", job.origin_ref, "companies")[0]
    hub.sandbox.store.update("companies", company, {"address": "1 New Rd", "city": "Penrith"})
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="active_job_affected").first(),
        what="the item for operations",
    )
    assert f"job {job.number} is scheduled at {job.site_address}" in item.reason
    wait_for(lambda: ReviewItem.objects.get(pk=item.pk).occurrences == 2, what="the city change")
    assert ReviewItem.objects.filter(kind="active_job_affected").count() == 1
    assert Job.objects.get(pk=job.pk).site_address == job.site_address  # not edited silently


def test_a_customer_change_without_active_jobs_only_leaves_a_trail(hub):
    company = next(
        c for c in hub.sandbox.store.list("companies") if c["properties"]["name"].startswith("Moss")
    )
    hub.sandbox.store.update("companies", company["id"], {"phone": "02 9000 0000"})
    run = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="customer_change_to_active_jobs", state="skipped"
        ).first(),
        what="the run",
    )
    assert "no active job depends on it" in run.summary
    assert not ReviewItem.objects.exists()
