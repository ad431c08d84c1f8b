"""Several Xero organisations in a real browser: the admin chooses the default and sends a
pipeline's invoices to the other organisation on the Xero page; a job's page names the
organisation its invoice went to."""

from playwright.sync_api import expect

from operations import services
from operations.models import Job
from tests.browser.conftest import PASSWORD, log_in, shoot, unlabelled_fields
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, won_job, xero_org, xero_second_org


def test_the_admin_chooses_the_default_adds_a_rule_and_the_job_names_its_organisation(
    hub, page, django_user_model
):
    first, second = xero_org(hub), xero_second_org(hub)
    connect_xero(hub, first)
    connect_xero(hub, second)
    django_user_model.objects.create_user("owner", "owner@example.com", PASSWORD, is_staff=True)
    log_in(page, hub.url, "owner")
    page.get_by_role("link", name="Xero", exact=True).click()
    expect(page.locator("#default-said")).to_have_text(
        "Not chosen: invoices wait until you choose."
    )

    page.get_by_label("Default organisation").select_option(label=first.name)
    page.get_by_role("button", name="Save default organisation").click()
    expect(page.get_by_role("status")).to_contain_text(f"{first.name} is now the default")
    expect(page.locator("#default-said")).to_have_text(f"Now: {first.name}.")
    default_row = page.get_by_role("row").filter(has_text="Default").filter(has_text="OAuth")
    expect(default_row).to_contain_text(first.name)

    page.get_by_label("Send the invoices of").select_option(label="deals in a pipeline")
    page.get_by_label("Pipeline").select_option(label="Sales Pipeline")
    page.get_by_label("to the organisation").select_option(label=second.name)
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Deals in the pipeline 'Sales Pipeline': invoiced in {second.name} from now on."
    )
    rule = page.get_by_role("row").filter(has_text="Deals in the pipeline “Sales Pipeline”")
    expect(rule).to_contain_text(second.name)
    history = page.get_by_role("row").filter(has_text="Default organisation:")
    expect(history.first).to_contain_text("owner")
    assert unlabelled_fields(page) == []
    shoot(page, "xero-settings-organisations")

    job = won_job(hub, "safety switch upgrade")
    services.job_transition(job=job, to="in_progress")
    page.goto(f"{hub.url}/jobs/{job.number}/")
    page.get_by_label("Sign-off: what was done?").fill("Twelve RCBOs fitted and tested.")
    page.get_by_role("button", name="Mark done").click()
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the draft invoice")
    page.reload()
    expect(page.locator("#invoice-organisation")).to_have_text(second.name)
    assert [i["Reference"] for i in second.invoices.values()] == [job.number]
    assert first.invoices == {}
    shoot(page, "job-invoiced-in-second-organisation")
