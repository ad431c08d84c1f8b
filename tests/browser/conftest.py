"""Real Chromium (Debian's, never a downloaded one) driven by Playwright against the live hub."""

import base64
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
# The README's screenshots, taken by tests/browser/test_readme_screenshots.py.
DOCS_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
# A shot differing from the committed one in fewer pixels than this share (a date, "3 minutes
# ago") leaves the committed file as it is: a test run changes docs/ only when a page did.
DOCS_SAME_ENOUGH = 0.01
PASSWORD = "browser-test-pass-7"
PHONE = {"width": 390, "height": 844}


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
def phone(browser):
    """A page 390 px wide, as on a phone (operations staff finish jobs on site)."""
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def demo_business(live_server, settings, tmp_path, monkeypatch):
    """The demo's business as `./hub demo` seeds it (manage.py seed_demo): its jobs, and one
    review item of each kind the hub raises. Logins: staff / staff-demo-pass, admin /
    admin-demo-pass. The seed runs its handoffs in this process; what it would also send
    to the broker is dropped, so no worker of the suite takes it up after the test."""
    from integration_hub.celery import app

    settings.VAR_DIR = tmp_path
    with monkeypatch.context() as unsent:
        unsent.setattr(app, "send_task", lambda *args, **kwargs: None)
        call_command("seed_demo", stdout=io.StringIO())
    return live_server


@pytest.fixture
def staff_login(django_user_model):
    from django.contrib.auth.models import Group

    from integration_hub.permissions import STAFF_GROUP

    user = django_user_model.objects.create_user("olivia", "olivia@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=STAFF_GROUP)[0])
    return user


def log_in(page, base_url: str, username: str = "olivia", password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


def shoot(page, name: str) -> None:
    """Save a full-page screenshot where CI keeps it (artifacts/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def shoot_for_docs(page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot for the README in docs/screenshots (and in artifacts/screenshots).

    The committed file is replaced only when the page looks different: a shot whose pixels
    differ in under DOCS_SAME_ENOUGH of the image (the day's dates, "3 minutes ago") keeps
    it, so a test run leaves the work tree clean unless a page changed. Chromium compares.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
    committed = DOCS_SCREENSHOTS / f"{name}.png"
    if committed.exists() and pixels_differ(page, committed.read_bytes(), shot) < DOCS_SAME_ENOUGH:
        return
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    committed.write_bytes(shot)


PIXELS_DIFFER_JS = """async ([a, b]) => {
  const load = src => new Promise((done, fail) => {
    const image = new Image();
    image.onload = () => done(image);
    image.onerror = fail;
    image.src = 'data:image/png;base64,' + src;
  });
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.width !== y.width || x.height !== y.height) return 1;
  const pixels = image => {
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return context.getImageData(0, 0, image.width, image.height).data;
  };
  const p = pixels(x), q = pixels(y);
  let differ = 0;
  for (let i = 0; i < p.length; i += 4) {
    if (p[i] !== q[i] || p[i + 1] !== q[i + 1] || p[i + 2] !== q[i + 2]) differ++;
  }
  return differ / (p.length / 4);
}"""


def pixels_differ(page, png: bytes, other: bytes) -> float:
    """Return the share of pixels two PNGs differ in (1.0 when their sizes differ)."""
    blank = page.context.new_page()
    try:
        encoded = [base64.b64encode(image).decode() for image in (png, other)]
        return blank.evaluate(PIXELS_DIFFER_JS, encoded)
    finally:
        blank.close()


def sideways_scroll(page) -> int:
    """Return how many pixels the page is wider than the screen (0: no sideways scroll)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


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
