"""A large spreadsheet in a real browser: the worker imports it behind a progress bar."""

from playwright.sync_api import expect

from operations.models import Job, JobImport
from tests.browser.conftest import log_in

ROWS = "".join(f"J-95{n:02d},Harbour View Cafe,Service visit {n},scheduled\n" for n in range(12))


def test_a_large_file_imports_in_the_background_and_the_bar_follows_it(
    hub, page, staff_login, monkeypatch, tmp_path
):
    monkeypatch.setattr("operations.views.BACKGROUND_ROWS", 10)  # 12 rows go to the worker
    spreadsheet = tmp_path / "jobs.csv"
    spreadsheet.write_text("number,customer,title,status\n" + ROWS)

    log_in(page, hub.url)
    page.goto(f"{hub.url}/jobs/import/")
    page.get_by_label("Spreadsheet").set_input_files(str(spreadsheet))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("imported in the background")).to_be_visible()
    page.get_by_role("button", name="Import 12 rows").click()

    bar = page.get_by_role("progressbar")
    expect(bar).to_be_visible()
    # The page asks again every second until the worker is done; no reload needed.
    expect(page.get_by_role("status")).to_contain_text(
        "12 new, 0 updated, 0 unchanged", timeout=60_000
    )
    expect(bar).to_have_attribute("value", "12")
    assert Job.objects.filter(number__startswith="J-95").count() == 12
    JobImport.objects.get().file.delete()
