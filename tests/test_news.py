"""Pages that keep up: the job page's finance part asks for itself, and the review queue,
the job list and Home ask how many rows are new since they were drawn
(integration_hub/news.py). The browser side, the notice appearing and the invoice arriving,
is in tests/browser/test_live_pages.py."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from handoffs.models import HandoffRun
from operations import services
from operations.models import Job
from review_queue.models import ReviewItem
from tests.operations.factories import JobFactory, JobLineFactory
from tests.review_queue.factories import ReviewItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, office_staff):
    client.force_login(office_staff)
    return office_staff


def poll_url(html: str, endpoint: str) -> str:
    """The URL the page's notice asks, as htmx would request it."""
    found = re.search(rf'hx-get="({re.escape(endpoint)}[^"]*)"', html)
    assert found, f"no poll of {endpoint} on the page"
    return unescape(found[1])


def ask(client, url: str):
    """Ask as htmx does; return the status and the notice's words (or '')."""
    response = client.get(url, headers={"HX-Request": "true"})
    text = re.search(r'class="news-pill">(.*?) · <a', response.content.decode())
    return response.status_code, text[1] if text else "", response


def test_the_queue_counts_new_items_matching_its_filters_and_changes_to_those_shown(client, staff):
    shown = ReviewItemFactory(kind="connection", system="xero", title="Reconnect Xero")
    page = client.get("/review/", {"kind": "connection"}).content.decode()
    url = poll_url(page, "/review/news/")
    assert "kind=connection" in url and f"shown={shown.pk}" in url
    assert ask(client, url)[0] == 204  # nothing new: htmx leaves the page alone

    ReviewItemFactory(kind="missing_data")  # not what this page lists
    assert ask(client, url)[0] == 204
    ReviewItemFactory(kind="connection", system="hubspot", title="Reconnect HubSpot")
    status, text, response = ask(client, url)
    assert (status, text) == (200, "1 new item")
    # Show draws the list afresh with the same filters; the next ask carries the new counts.
    assert 'hx-get="/review/?kind=connection"' in response.content.decode()
    again = poll_url(response.content.decode(), "/review/news/")
    assert ask(client, again)[0] == 204

    shown.status, shown.resolved_at = ReviewItem.Status.RESOLVED, timezone.now()
    shown.save()
    assert ask(client, again)[1:2] == ("1 new item, 1 changed",)


def test_the_queue_asks_with_two_counts_and_nothing_else(client, staff):
    items = ReviewItemFactory.create_batch(3)
    url = poll_url(client.get("/review/").content.decode(), "/review/news/")
    with CaptureQueriesContext(connection) as queries:
        ask(client, url)
    asked = [q["sql"] for q in queries.captured_queries if "review_queue_reviewitem" in q["sql"]]
    assert len(asked) == 2 and all("COUNT(" in sql for sql in asked), asked
    assert all(str(item.pk) in url for item in items)


def test_the_job_list_counts_new_jobs_and_changed_jobs_on_screen(client, staff):
    job = JobLineFactory(job__status="in_progress").job
    url = poll_url(client.get("/jobs/").content.decode(), "/jobs/news/")
    assert ask(client, url)[0] == 204
    JobFactory()
    assert ask(client, url)[1] == "1 new job"
    services.job_complete(job=job, by=staff, note="Done.")
    assert ask(client, url)[1] == "1 new job, 1 changed"
    # Filtered to today's jobs, a job booked for next week is not news.
    today = poll_url(client.get("/jobs/", {"today": "1"}).content.decode(), "/jobs/news/")
    JobFactory(scheduled_start=timezone.now() + timezone.timedelta(days=7))
    assert ask(client, today)[0] == 204


def test_home_counts_items_raised_and_closed_in_one_query(client, staff):
    old = ReviewItemFactory()
    url = poll_url(client.get("/").content.decode(), "/news/")
    assert ask(client, url)[0] == 204
    ReviewItemFactory(title="New problem")
    old.status = ReviewItem.Status.DISMISSED
    old.save()
    with CaptureQueriesContext(connection) as queries:
        status, text, response = ask(client, url)
    assert (status, text) == (200, "1 new review item, 1 closed")
    assert 'href="/">Show</a>' in response.content.decode()  # Show reloads Home
    asked = [q["sql"] for q in queries.captured_queries if "review_queue_reviewitem" in q["sql"]]
    assert len(asked) == 1, asked


def test_the_job_page_finance_part_answers_204_until_the_invoice_arrives(client, staff):
    job = JobLineFactory(job__status="in_progress").job
    page = client.get(f"/jobs/{job.number}/").content.decode()
    url = poll_url(page, f"/jobs/{job.number}/finance/")
    assert "Not invoiced yet." in page
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 204

    services.job_complete(job=job, by=staff, note="Done.")
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "Not invoiced yet." in done and "Finance is being told" in done
    assert re.search(r'<dd id="job-status" hx-swap-oob="true"><span class="badge">Done<', done)
    url = poll_url(done, f"/jobs/{job.number}/finance/")
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 204

    services.job_invoice_update(
        job=job,
        changes={
            "invoice_number": "INV-0042",
            "invoice_status": Job.PaymentStatus.DRAFT,
            "amount_invoiced": Decimal("110.00"),
        },
    )
    invoiced = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "INV-0042 (Draft)" in invoiced and "Not invoiced yet." not in invoiced
    assert ">Invoiced · draft<" in invoiced


def test_the_job_page_says_what_the_invoice_waits_on(client, staff):
    job = JobLineFactory(job__status="in_progress").job
    services.job_complete(job=job, by=staff, note="Done.")
    item = ReviewItemFactory(title="Reconnect Xero", kind="connection", system="xero")
    HandoffRun.objects.create(
        handoff="job_done_to_invoice",
        key=f"operations:job:{job.number}:invoice",
        record_system="operations",
        record_type="job",
        record_ref=job.number,
        state=HandoffRun.State.NEEDS_REVIEW,
        review_item=item,
    )
    page = client.get(f"/jobs/{job.number}/").content.decode()
    assert "The invoice waits on a review item:" in page
    assert f'href="/review/{item.pk}/">Reconnect Xero</a>' in page


def test_a_logged_out_poll_is_sent_to_the_login_page(client):
    # The notice selects .news-poll from what it gets: the login page has none, so a page
    # left open after logging out stops asking instead of showing the login form in it.
    response = client.get("/review/news/?last=0&at=x&shown=&said=0-0")
    assert response.status_code == 302 and "/login/" in response["Location"]
