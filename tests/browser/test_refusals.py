"""Refusals a person understands: what they cannot do here, and whom to ask."""

from playwright.sync_api import expect

from ownership.models import FieldRule
from ownership.services import field_rules_defaults_load
from tests.browser.conftest import log_in, shoot


def test_office_staff_opening_admin_pages_are_told_who_can_change_them(
    live_server, page, staff_login, django_user_model
):
    django_user_model.objects.create_user(
        "ann", "ann@example.com", first_name="Ann", last_name="Lee", is_staff=True
    )
    field_rules_defaults_load()
    log_in(page, live_server.url)
    rule = FieldRule.objects.first()
    for path in (f"/ownership/{rule.pk}/", "/settings/xero/"):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_text("Only admins can change this.")).to_be_visible()
        expect(page.get_by_role("link", name="ann@example.com")).to_be_visible()
        expect(page.get_by_label("Password")).to_have_count(0)
    shoot(page, "refused-admins-only")

    page.get_by_role("link", name="Ownership").click()
    expect(page.get_by_text("Only admins can change these rules.")).to_be_visible()
    expect(page.get_by_text("Ann Lee")).to_be_visible()
