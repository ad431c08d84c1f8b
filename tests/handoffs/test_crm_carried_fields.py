"""A CRM edit to a field operations owns: restored, flagged or ignored by rule; echoes are not."""

from handoffs.models import HandoffRun
from operations import services
from operations.models import Job
from ownership.models import FieldRule
from review_queue.models import ReviewItem
from review_queue.services import review_item_preview, review_item_resolve
from tests.helpers import wait_for


def started_job(hub) -> Job:
    deal = next(
        d for d in hub.sandbox.store.list("deals") if "common-area" in d["properties"]["dealname"]
    )
    hub.sandbox.store.update("deals", deal["id"], {"dealstage": "closedwon"})
    job = wait_for(lambda: Job.objects.filter(origin_ref=deal["id"]).first(), what="the job")
    services.job_transition(job=job, to="in_progress")
    wait_for(
        lambda: hub.sandbox.store.get("deals", deal["id"])["properties"].get("job_status")
        == "in_progress",
        what="the deal to show the job started",
    )
    return job


def rule(on_disagreement: str) -> None:
    FieldRule.objects.filter(record_type="job", field="status").update(
        on_disagreement=on_disagreement
    )


def crm_sets_status(hub, job: Job, value: str) -> None:
    hub.sandbox.store.update("deals", job.origin_ref, {"job_status": value}, change_source="CRM_UI")


def deal_status(hub, job: Job) -> str:
    return hub.sandbox.store.get("deals", job.origin_ref)["properties"]["job_status"]


def test_the_owners_value_is_restored_and_the_echo_starts_no_loop(hub):
    job = started_job(hub)
    crm_sets_status(hub, job, "done")
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="crm_carried_fields", state="done").first(),
        what="the restore",
    )
    assert "Restored job_status on the deal to 'in_progress' (HubSpot had 'done')" in run.summary
    assert deal_status(hub, job) == "in_progress"
    # The restore comes back as a webhook from the hub's own app: skipped as an echo.
    echo = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="crm_carried_fields", summary__contains="an echo"
        ).first(),
        what="the echo",
    )
    assert echo.state == "skipped"
    assert HandoffRun.objects.filter(handoff="crm_carried_fields", state="done").count() == 1
    assert not ReviewItem.objects.exists()
    assert Job.objects.get(pk=job.pk).status == "in_progress"  # the owner never moved


def test_a_flagged_disagreement_shows_both_values_and_keeping_the_owner_restores_it(
    hub, office_staff
):
    job = started_job(hub)
    rule("flag")
    crm_sets_status(hub, job, "done")
    item = wait_for(lambda: ReviewItem.objects.filter(kind="disagreement").first(), what="the item")
    assert (item.details["owner_value"], item.details["other_value"]) == ("in_progress", "done")
    assert "operations owns it" in item.reason
    assert "Set job_status on HubSpot deal" in review_item_preview(item=item, action="keep_owner")
    assert deal_status(hub, job) == "done"  # the preview wrote nothing
    review_item_resolve(item=item, by=office_staff, action="keep_owner")
    assert deal_status(hub, job) == "in_progress"
    run = HandoffRun.objects.get(review_item=item)
    assert run.state == "done" and run.summary.startswith("Resolved from the review queue")
    assert Job.objects.get(pk=job.pk).status == "in_progress"


def test_taking_the_crms_value_changes_the_owner_only_where_the_rules_allow(hub, office_staff):
    job = started_job(hub)
    rule("flag")
    crm_sets_status(hub, job, "paid")
    item = wait_for(lambda: ReviewItem.objects.filter(kind="disagreement").first(), what="the item")
    refused = None
    try:
        review_item_preview(item=item, action="take_other")
    except Exception as error:  # noqa: BLE001 (the refusal itself is what is checked)
        refused = str(error)
    assert "cannot become 'paid'" in refused
    crm_sets_status(hub, job, "on_hold")
    wait_for(
        lambda: ReviewItem.objects.get(pk=item.pk).details["other_value"] == "on_hold",
        what="the item to show the newer value",
    )
    item.refresh_from_db()
    assert ReviewItem.objects.filter(kind="disagreement", status="open").count() == 1
    review_item_resolve(item=item, by=office_staff, action="take_other")
    assert Job.objects.get(pk=job.pk).status == "on_hold"


def test_an_ignored_field_is_left_alone(hub):
    job = started_job(hub)
    rule("ignore")
    crm_sets_status(hub, job, "done")
    run = wait_for(
        lambda: HandoffRun.objects.filter(handoff="crm_carried_fields").first(), what="the run"
    )
    wait_for(lambda: HandoffRun.objects.get(pk=run.pk).state == "skipped", what="skip")
    assert deal_status(hub, job) == "done" and not ReviewItem.objects.exists()
