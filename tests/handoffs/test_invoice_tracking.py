"""Tracking categories (issue 13, point 7): admins map a job field to a Xero tracking
category on the Xero page; each invoice line carries the job's option; an option Xero does
not have is one review item before anything is sent; the invoice is read back to check the
tracking stuck. Through the HubSpot and Xero sandboxes, the SDKs over HTTP and a worker."""

from django.test import Client

from connectors.models import TrackingMapping
from connectors.sandbox.xero import tracking as sandbox_tracking
from handoffs.models import HandoffRun
from operations import services
from operations.models import Crew, Job
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.handoffs.test_invoice_settings import admin_client
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, won_job, xero_invoices, xero_org

SWITCH = "safety switch upgrade"
LIGHTS = "emergency lighting test"


def tracking_post(client, **form) -> str:
    """As an admin on the Xero page: map a job field to a tracking category."""
    form = {"category": "", "source": "", "hubspot_property": "", "fallback": ""} | form
    answer = client.post("/settings/xero/tracking/", form, follow=True)
    assert answer.status_code == 200
    return answer.content.decode()


def finish(job: Job, user, *, site: str = "", crew: Crew | None = None) -> Job:
    if site:
        services.job_site_update(job=job, site_address=site, site_contact="", site_notes="")
    if crew:
        services.job_reschedule(job=job, start=None, end=None, crew=crew)
    services.job_transition(job=job, to="in_progress")
    services.job_complete(job=job, by=user, note="Done.")
    return job


def invoiced(job: Job) -> Job:
    return wait_for(
        lambda: Job.objects.filter(pk=job.pk, status="invoiced").first(), what="the invoice"
    )


def tracking_of(invoice: dict) -> list[list[tuple[str, str]]]:
    return [[(t["Name"], t["Option"]) for t in line["Tracking"]] for line in invoice["LineItems"]]


def item_for(root: str) -> ReviewItem:
    return wait_for(
        lambda: ReviewItem.objects.filter(root_key=root, status="open").first(), what="the item"
    )


def test_each_line_carries_the_site_state_and_the_invoice_is_read_back(hub, django_user_model):
    client = admin_client(django_user_model)
    page = tracking_post(client, category="Region", source="region")
    assert "Invoice lines now carry the job site&#x27;s state" in page
    assert "Changes to the tracking categories" in page and "boss" in page
    connect_xero(hub)
    job = finish(
        won_job(hub, SWITCH), django_user_model.objects.get(), site="4 Eton St, Sutherland NSW 2232"
    )
    invoiced(job)
    (invoice,) = xero_invoices(hub)
    assert tracking_of(invoice) == [[("Region", "NSW")], [("Region", "NSW")]]
    org = xero_org(hub)
    assert org.requests["GET /TrackingCategories"] == 1  # checked before sending, cached
    assert org.requests["GET /Invoices"] == 1  # read back after
    assert not ReviewItem.objects.filter(status="open").exists()


def test_an_option_xero_lacks_is_one_item_for_every_job_and_retry_sends_them_tracked(
    hub, django_user_model
):
    client = admin_client(django_user_model)
    tracking_post(client, category="Crew", source="crew")
    connect_xero(hub)
    red = Crew.objects.create(name="Red crew (Lee)")
    boss = django_user_model.objects.get()
    jobs = [finish(won_job(hub, name), boss, crew=red) for name in (SWITCH, LIGHTS)]
    item = item_for(f"xero:tracking:crew:red crew (lee):{xero_org(hub).tenant_id}")
    wait_for(
        lambda: HandoffRun.objects.filter(review_item=item).count() == 2, what="both jobs waiting"
    )
    assert ReviewItem.objects.filter(status="open").count() == 1
    assert item.reason == (
        "No invoice was sent: Xero's tracking category 'Crew' has no option 'Red crew (Lee)', "
        "so the lines of the jobs with 'Red crew (Lee)' cannot carry it. The options Xero has: "
        "Blue crew (Sam, Ava), Green crew (Noah)."
    )
    assert item.action.startswith("In Xero, add (or restore) the option 'Red crew (Lee)'")
    assert "then press Retry" in item.action
    assert xero_org(hub).requests["PUT /Invoices"] == 0
    # The bookkeeper adds the option in Xero; staff press Retry once.
    sandbox_tracking.option_add(xero_org(hub).tracking_categories, "Crew", "Red crew (Lee)")
    review_item_resolve(item=item, by=boss, action="retry")
    for job in jobs:
        invoiced(job)
    invoices = xero_invoices(hub)
    assert len(invoices) == 2
    assert all(line == [("Crew", "Red crew (Lee)")] for i in invoices for line in tracking_of(i))


def test_an_archived_option_waits_and_names_the_options_xero_has(hub, django_user_model):
    tracking_post(admin_client(django_user_model), category="Region", source="region")
    connect_xero(hub)
    job = finish(
        won_job(hub, SWITCH), django_user_model.objects.get(), site="1 Mitchell St, Darwin NT 0800"
    )
    item = item_for(f"xero:tracking:region:nt:{xero_org(hub).tenant_id}")
    assert (
        item.title
        == "Invoices wait: Xero has archived the option 'NT' of tracking category 'Region'"
    )
    assert "The options Xero has: ACT, NSW, QLD, TAS, VIC." in item.reason
    assert xero_org(hub).requests["PUT /Invoices"] == 0
    assert Job.objects.get(pk=job.pk).status == "done"


def test_a_job_with_no_crew_waits_until_the_mapping_gives_an_option(hub, django_user_model):
    client = admin_client(django_user_model)
    tracking_post(client, category="Crew", source="crew")
    connect_xero(hub)
    boss = django_user_model.objects.get()
    job = finish(won_job(hub, SWITCH), boss)
    item = wait_for(
        lambda: ReviewItem.objects.filter(status="open", record_ref=job.number).first(),
        what="the item",
    )
    assert f"Job {job.number} has no crew" in item.reason
    assert item.action.startswith(f"Set the crew on job {job.number}'s page, then press Retry.")
    tracking_post(client, category="crew", source="crew", fallback="Green crew (Noah)")
    assert TrackingMapping.objects.get().fallback == "Green crew (Noah)"  # one mapping, changed
    review_item_resolve(item=item, by=boss, action="retry")
    invoiced(job)
    (invoice,) = xero_invoices(hub)
    assert tracking_of(invoice) == [[("Crew", "Green crew (Noah)")]] * 2


def test_a_hubspot_deal_property_names_the_option(hub, django_user_model):
    tracking_post(
        admin_client(django_user_model),
        category="Region",
        source="hubspot",
        hubspot_property="state_served",
    )
    connect_xero(hub)
    deal = next(d for d in hub.sandbox.store.list("deals") if SWITCH in d["properties"]["dealname"])
    hub.sandbox.store.update("deals", deal["id"], {"state_served": "QLD"}, notify=False)
    invoiced(finish(won_job(hub, SWITCH), django_user_model.objects.get()))
    (invoice,) = xero_invoices(hub)
    assert tracking_of(invoice) == [[("Region", "QLD")]] * 2


def test_lines_xero_did_not_keep_their_tracking_on_are_one_item(hub, django_user_model):
    tracking_post(admin_client(django_user_model), category="Region", source="region")
    connect_xero(hub)
    xero_org(hub).tracking_kept = False  # as Xero has been seen to drop it in silence
    job = finish(
        won_job(hub, SWITCH), django_user_model.objects.get(), site="9 Bay Rd, Hobart TAS 7000"
    )
    job = invoiced(job)
    item = item_for(f"tracking-not-kept:job:{job.number}")
    assert item.kind == "tracking_not_kept"
    assert "its lines lack Region: TAS" in item.reason
    assert item.action.startswith(f"Open invoice {job.invoice_number} in Xero, set Region: TAS")
    assert len(xero_invoices(hub)) == 1  # made once, never again


def test_the_tracking_form_refuses_what_xero_or_hubspot_would_not_take(django_user_model, db):
    client = admin_client(django_user_model)
    page = tracking_post(client, category="Region", source="hubspot")
    assert "Name the HubSpot deal property to read." in page
    page = tracking_post(client, category="Region", source="hubspot", hubspot_property="State!")
    assert "Use HubSpot&#x27;s internal name" in page
    tracking_post(client, category="Region", source="region")
    tracking_post(client, category="Crew", source="crew")
    page = tracking_post(client, category="Job type", source="crew")
    assert "Xero takes at most two tracking categories on a line" in page
    assert list(TrackingMapping.objects.values_list("category", flat=True)) == ["Crew", "Region"]
    mapping = TrackingMapping.objects.get(category="Crew")
    client.post(f"/settings/xero/tracking/{mapping.pk}/remove/")
    assert TrackingMapping.history.filter(history_type="-").count() == 1


def test_office_staff_cannot_change_the_tracking(office_staff, db):
    client = Client()
    client.force_login(office_staff)
    form = {"category": "Region", "source": "region"}
    assert client.post("/settings/xero/tracking/", form).status_code == 403
    assert not TrackingMapping.objects.exists()


def test_xero_failing_the_category_read_and_the_read_back_still_makes_one_tracked_invoice(
    hub, django_user_model
):
    tracking_post(admin_client(django_user_model), category="Region", source="region")
    connect_xero(hub)
    hub.xero.store.fault_add(operation="GET /TrackingCategories", status=503, count=1)
    hub.xero.store.fault_add(operation="GET /Invoices", status=503, count=1)  # the read back
    job = finish(
        won_job(hub, SWITCH), django_user_model.objects.get(), site="4 Eton St, Sutherland NSW 2232"
    )
    invoiced(job)
    # Made once: the retry after the failed read back found it by its reference, and
    # checked its tracking there.
    (invoice,) = xero_invoices(hub)
    assert tracking_of(invoice) == [[("Region", "NSW")]] * 2
    org = xero_org(hub)
    assert org.requests["PUT /Invoices"] == 1
    assert org.requests["GET /TrackingCategories"] == 1 and org.requests["GET /Invoices"] == 1
    assert not ReviewItem.objects.filter(status="open").exists()
