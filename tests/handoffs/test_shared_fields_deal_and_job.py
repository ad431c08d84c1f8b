"""A job's fields (operations owns them) and a deal's promise (the CRM owns it), kept to their
owners by the engine through a real worker and the HubSpot sandbox: carried, restored,
flagged or held for a person as the rules say; the hub's own writes start no loop."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from handoffs.models import HandoffRun, InboundEvent
from operations import services
from operations.models import Job, JobEvent
from ownership.models import FieldRule
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.conftest import hub_settled
from tests.helpers import items_besides_xero_connection, wait_for


def won_job(hub) -> Job:
    deal = next(
        d for d in hub.sandbox.store.list("deals") if "common-area" in d["properties"]["dealname"]
    )
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"})
    return wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")


def deal(hub, job: Job) -> dict:
    return hub.sandbox.store.get("deals", job.origin_ref)["properties"]


def started_job(hub) -> Job:
    job = won_job(hub)
    services.job_transition(job=job, to="in_progress")
    wait_for(lambda: deal(hub, job).get("job_status") == "in_progress", what="the deal to follow")
    return job


def rule(on_disagreement: str) -> None:
    FieldRule.objects.filter(record_type="job", field="status").update(
        on_disagreement=on_disagreement
    )


def crm_sets_status(hub, job: Job, value: str) -> None:
    hub.sandbox.store.update("deals", job.origin_ref, {"job_status": value}, change_source="CRM_UI")


def test_the_job_is_carried_to_its_deal_and_the_completion_is_in_the_inbox(hub, django_user_model):
    job = won_job(hub)
    wait_for(lambda: deal(hub, job).get("job_number") == job.number, what="the job's number")
    services.job_transition(job=job, to="in_progress")
    services.job_complete(job=job, by=django_user_model.objects.create_user("tech"), note="Done.")
    event = wait_for(
        lambda: InboundEvent.objects.filter(
            source="operations", event_type="job.completed", state="processed"
        ).first(),
        what="job.completed in the inbox",
    )
    assert event.object_id == job.number and event.payload["actor"] == "tech"
    wait_for(lambda: deal(hub, job).get("job_status") == "done", what="the deal to show it")
    assert not JobEvent.objects.filter(forwarded_at__isnull=True).exists()


def test_the_deal_shows_the_day_a_morning_job_is_booked_for_in_sydney(hub):
    job = won_job(hub)
    wait_for(lambda: deal(hub, job).get("job_number") == job.number, what="the job's number")
    # 08:00 in Sydney is 21:00 the day before in UTC.
    start = datetime(2026, 12, 3, 8, 0, tzinfo=ZoneInfo("Australia/Sydney"))
    services.job_reschedule(job=job, start=start, end=None, crew=None)
    wait_for(
        lambda: deal(hub, job).get("job_scheduled_start") == "2026-12-03", what="the local day"
    )


def test_the_owners_value_is_restored_and_the_echo_starts_no_loop(hub):
    job = started_job(hub)
    crm_sets_status(hub, job, "done")
    run = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="shared_fields", record_ref=job.origin_ref, summary__contains="HubSpot now has"
        ).first(),
        what="the restore",
    )
    assert "HubSpot now has the job status" in run.summary
    assert deal(hub, job)["job_status"] == "in_progress"
    hub.sandbox.sender.wait_idle()
    # The restore came back as a webhook from the hub's own app: no run was made for it.
    echoes = InboundEvent.objects.filter(
        payload__sourceId="54321", payload__propertyName="job_status"
    )
    wait_for(lambda: echoes.filter(state="ignored").exists(), what="the echo, ignored")
    assert not items_besides_xero_connection().exists()
    assert Job.objects.get(pk=job.pk).status == "in_progress"  # the owner never moved


def test_a_flagged_disagreement_shows_both_values_and_keeping_the_owner_restores_it(
    hub, office_staff
):
    job = started_job(hub)
    rule("flag")
    crm_sets_status(hub, job, "done")
    item = wait_for(lambda: ReviewItem.objects.filter(kind="disagreement").first(), what="the item")
    d = item.details
    assert (d["owner_label"], d["owner_shown"]) == ("the job register", "In progress")
    assert [(o["label"], o["shown"]) for o in d["others"]] == [("HubSpot", "Done")]
    assert "The job register owns the job status" in item.reason
    preview = review_item_preview(item=item, action="keep_owner")
    assert "Write the job register's job status 'In progress' to HubSpot" in preview
    assert deal(hub, job)["job_status"] == "done"  # the preview wrote nothing
    review_item_resolve(item=item, by=office_staff, action="keep_owner")
    wait_for(lambda: deal(hub, job)["job_status"] == "in_progress", what="the owner's value")
    assert ReviewItem.objects.get(pk=item.pk).status == "resolved"
    assert Job.objects.get(pk=job.pk).status == "in_progress"


def test_taking_the_crms_value_changes_the_owner_only_where_the_rules_allow(hub, office_staff):
    job = started_job(hub)
    rule("flag")
    crm_sets_status(hub, job, "on_hold")
    item = wait_for(lambda: ReviewItem.objects.filter(kind="disagreement").first(), what="the item")
    # Staff read the statuses in words, never the codes (issue 15, point 1).
    assert "'On hold'" in item.reason and "on_hold" not in item.reason
    crm_sets_status(hub, job, "paid")
    wait_for(
        lambda: ReviewItem.objects.get(pk=item.pk).details["others"][0]["shown"] == "Paid",
        what="the item to show the newer value",
    )
    assert ReviewItem.objects.filter(kind="disagreement", status="open").count() == 1
    review_item_resolve(item=item, by=office_staff, action="take_other")
    # The register refuses a move to "paid" (only finance makes it): one item says why.
    failed = wait_for(
        lambda: ReviewItem.objects.filter(kind="missing_data", status="open").first(),
        what="the register's refusal",
    )
    assert "cannot become paid" in failed.reason
    assert Job.objects.get(pk=job.pk).status == "in_progress"


def test_an_ignored_field_is_left_alone(hub):
    job = started_job(hub)
    rule("ignore")
    crm_sets_status(hub, job, "done")
    run = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="shared_fields", record_ref=job.origin_ref, state="skipped"
        ).first(),
        what="the run",
    )
    assert "every copy agrees" in run.summary
    assert deal(hub, job)["job_status"] == "done" and not items_besides_xero_connection().exists()


def change_the_quote(hub, job: Job) -> None:
    store = hub.sandbox.store
    line = store.get("line_items", store.associated_ids("deals", job.origin_ref, "line_items")[0])
    store.update("line_items", line["id"], {"quantity": "40"}, notify=False)
    store.update("deals", job.origin_ref, {"amount": "8640.00"}, change_source="CRM_UI")


def test_a_scheduled_job_follows_the_deal(hub):
    job = won_job(hub)
    wait_for(lambda: deal(hub, job).get("job_number"), what="the deal told of its job")
    change_the_quote(hub, job)
    wait_for(lambda: Job.objects.get(pk=job.pk).amount == Decimal("8640.00"), what="the update")
    job.refresh_from_db()
    assert sorted(line.quantity for line in job.lines.all()) == [Decimal("26"), Decimal("40")]
    assert not items_besides_xero_connection().exists()


def test_a_started_job_is_not_edited_silently(hub, office_staff):
    job = started_job(hub)
    change_the_quote(hub, job)
    item = wait_for(
        lambda: ReviewItem.objects.filter(kind="quote_changed").first(), what="the item"
    )
    assert "amount 7500.00 → 8640.00" in item.reason
    assert Job.objects.get(pk=job.pk).amount == Decimal("7500.00")
    preview = review_item_preview(item=item, action="apply_to_job")
    assert "- 32 x LED panel light 600x600" in preview and "+ 40 x LED panel light" in preview
    review_item_resolve(item=item, by=office_staff, action="apply_to_job")
    wait_for(lambda: Job.objects.get(pk=job.pk).amount == Decimal("8640.00"), what="the job")
    assert Job.objects.get(pk=job.pk).status == "in_progress"


def test_a_job_started_reads_its_deals_job_fields_but_not_the_line_items(hub):
    job = won_job(hub)
    wait_for(lambda: deal(hub, job).get("job_number") == job.number, what="the job's number")
    wait_for(lambda: hub_settled(hub), what="the hub to finish with the new job")
    services.job_transition(job=job, to="in_progress")
    run = wait_for(
        lambda: HandoffRun.objects.filter(
            payload__type="job.status_changed", state__in=["done", "skipped"]
        ).first(),
        what="the run for the job's start",
    )
    calls = [c for a in run.attempt_log.all() for c in a.calls if c["system"] == "hubspot"]
    # The deal's job fields read, the job's status written: its promise is not the change.
    assert len(calls) == 2, calls
    assert not any("line_items" in c["request"] for c in calls)
    assert deal(hub, job)["job_status"] == "in_progress"
