"""Accessibility basics on every main page: labelled fields and text contrast of 4.5:1."""

from tests.browser.conftest import PASSWORD, log_in, low_contrast, unlabelled_fields
from tests.review_queue.factories import ReviewItemFactory

PAGES = [
    "/",
    "/review/",
    "/jobs/",
    "/jobs/schedule/",
    "/runs/",
    "/ownership/",
    "/settings/xero/",
    "/activity/",
    "/review/notifications/",
]


def test_main_pages_have_labelled_fields_and_readable_contrast(
    live_server, page, django_user_model
):
    django_user_model.objects.create_user("owner", "owner@example.com", PASSWORD, is_staff=True)
    item = ReviewItemFactory()
    log_in(page, live_server.url, "owner")
    problems = {}
    for path in [*PAGES, f"/review/{item.pk}/"]:
        page.goto(f"{live_server.url}{path}")
        assert page.title(), path
        found = low_contrast(page) + unlabelled_fields(page)
        if found:
            problems[path] = found
    assert problems == {}


def test_the_checks_catch_faint_text_and_a_bare_field(live_server, page):
    page.goto(f"{live_server.url}/login/")
    page.evaluate("""() => {
        const p = document.createElement('p');
        p.textContent = 'faint'; p.style.color = '#bbbbbb'; p.style.background = '#ffffff';
        document.body.append(p, document.createElement('input'));
    }""")
    assert any("faint" in found for found in low_contrast(page))
    assert len(unlabelled_fields(page)) == 1
