"""What a person reads before acting: advice that fits the change on an item's page, and an
import preview that tells the truth about the file (issue 15, points 2 and 7)."""

from playwright.sync_api import expect

from connectors.base import BusinessEvent
from ownership.models import FieldRule
from review_queue.models import ReviewItem
from tests.browser.conftest import log_in, shoot
from tests.handoffs.test_active_job_advice import seeded


def test_a_renamed_company_opens_an_item_whose_advice_is_about_the_name(
    hub, page, staff_login, settings, tmp_path
):
    """The rename happens in the hub's own HubSpot sandbox, the one the suite's worker reads:
    the register's echo of the new name may reach that worker, and it must find HubSpot
    saying the same (a private sandbox had it read the old name and write it back)."""
    from handoffs.management.commands.seed_demo import Command

    seeded(settings, tmp_path)
    FieldRule.objects.filter(record_type="customer", field="billing_name").update(
        owner="hubspot", carriers={"operations": "name"}
    )
    store = hub.sandbox.store
    deal = next(d for d in store.list("deals") if d["properties"]["dealname"].startswith("Harbour"))
    cafe = store.associated_ids("deals", deal["id"], "companies")[0]
    store.update("companies", cafe, {"name": "Harbour View Cafe & Bar"}, notify=False)
    Command()._run(
        "shared_fields", BusinessEvent("customer.changed", "hubspot", cafe, {"event": "t"})
    )
    item = ReviewItem.objects.get(kind="active_job_affected", details__field="billing_name")
    assert "(it was 'Harbour View Cafe')" in item.reason, item.reason
    log_in(page, hub.url)
    page.get_by_role("link", name="Review queue").first.click()
    link = page.get_by_role("link", name="Customer renamed while a job is active")
    link.and_(page.locator(f"[href$='/review/{item.pk}/']")).click()
    expect(page.get_by_text("(it was 'Harbour View Cafe')").first).to_be_visible()
    expect(page.get_by_text("nothing moves").first).to_be_visible()
    expect(page.get_by_text("whether the work moves")).to_have_count(0)
    shoot(page, "advice-renamed")


def test_the_import_preview_shows_what_the_file_says_and_counts_what_can_import(
    live_server, page, staff_login, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    csv = tmp_path / "jobs.csv"
    csv.write_text(
        "number,customer,title,status,crew\n"
        "J-7001,Cafe,Paint,finished,\nJ-7002,Cafe,Fix,,Bleu\nJ-7003,Cafe,Tag,done,\n"
    )
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/jobs/import/")
    page.locator("input[type=file]").set_input_files(str(csv))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("cell", name="finished", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Import 2 rows")).to_be_visible()
    expect(page.get_by_role("button", name="Import 3 rows")).to_have_count(0)
    expect(page.get_by_text("crew 'Bleu' is not one of the hub's crews").first).to_be_visible()
    shoot(page, "import-preview-truth")
