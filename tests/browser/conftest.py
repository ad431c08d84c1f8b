"""Real Chromium (Debian's, never a downloaded one) driven by Playwright against the live hub."""

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
PASSWORD = "browser-test-pass-7"


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the test's own
    # database calls are still synchronous, so Django must be told they are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./hub test installs Debian's chromium package.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def staff_login(django_user_model):
    from django.contrib.auth.models import Group

    from integration_hub.permissions import STAFF_GROUP

    user = django_user_model.objects.create_user("olivia", "olivia@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=STAFF_GROUP)[0])
    return user


def log_in(page, base_url: str, username: str = "olivia") -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


def shoot(page, name: str) -> None:
    """Save a full-page screenshot where CI keeps it (artifacts/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def unlabelled_fields(page) -> list[str]:
    """Return the visible form fields that have no label a screen reader could read."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML)"""
    )


# For each visible element with its own text: its colour against the first opaque
# background behind it, as WCAG 2 computes contrast. Returns those under 4.5:1.
LOW_CONTRAST_JS = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null) continue;
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(behind(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < 4.5) found.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return found;
}"""


def low_contrast(page) -> list[str]:
    """Return the visible texts whose contrast with their background is under 4.5:1."""
    return page.evaluate(LOW_CONTRAST_JS)
