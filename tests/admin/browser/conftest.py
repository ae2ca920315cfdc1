"""The back office in a real browser: Debian's Chromium driven by Playwright against a live server.

Each step leaves a screenshot in tests/artifacts/admin/ (kept by CI as the visual record of a run), and
every screenshot is also a check that the page fits the 1366x768 window without scrolling sideways.
"""

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from identity.staff_roles import OPERATOR

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "tests" / "artifacts" / "admin"
CLIENT_PASSWORD = "correct horse battery"
VIEWPORT = {"width": 1366, "height": 768}

# CI sets REQUIRE_BROWSER, so there a missing browser fails the run instead of skipping it.
if not Path(CHROMIUM).exists() and os.environ.get("REQUIRE_BROWSER"):
    raise RuntimeError(f"{CHROMIUM} is missing: bin/ensure-chromium installs it")


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (bin/ensure-chromium installs it)")
    from playwright.sync_api import sync_playwright

    # Cleared once per session, so the walks of every module leave their screenshots side by side.
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    # Playwright's sync API keeps an event loop on this thread while the browser lives. The tests'
    # ORM calls (and pytest-django's flush after each test) are synchronous all the same, so
    # Django's guard against ORM calls from async code is lifted until the browser is closed.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--no-first-run"])
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def operator(seeded, make_staff):
    return make_staff(OPERATOR, email="operator@aza8.com")


# Elements in the page's main areas that reach past the window's right edge, described for the failure message.
_OVERFLOWING = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('#content *, #changelist *')]
        .filter(element => element.getBoundingClientRect().right > width + 1);
    return {
        page: [document.documentElement.scrollWidth, width],
        elements: wide.slice(0, 5).map(element =>
            `${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''}` +
            `${element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : ''}` +
            ` right=${Math.round(element.getBoundingClientRect().right)}`),
    };
}"""


def assert_fits_the_window(page):
    overflow = page.evaluate(_OVERFLOWING)
    scroll_width, client_width = overflow["page"]
    assert scroll_width <= client_width and not overflow["elements"], (
        f"{page.url} scrolls sideways at {VIEWPORT['width']}px: page {scroll_width}px, "
        f"too wide: {overflow['elements']}")


def shot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert_fits_the_window(page)


def sign_in(page, email, password):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def search(page, changelist, text):
    """Type `text` in the changelist's search box and wait for the results."""
    page.goto(changelist)
    page.fill("#searchbar", text)
    with page.expect_navigation():
        page.press("#searchbar", "Enter")


def run_action(page, changelist, row_pk, action):
    page.goto(changelist)
    page.check(f"input[name=_selected_action][value='{row_pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def suspend_tenant(page, tenant, reason, screenshot):
    """Tenants › tick it › *Suspend the selected tenants* › the reason › Confirm, as staff do;
    `screenshot` names the shot of the filled reason form."""
    run_action(page, f"/admin/tenancy/tenant/?q={tenant.slug}", tenant.pk, "suspend")
    page.fill("textarea[name=reason]", reason)
    shot(page, screenshot)
    page.click("#reason-form input[type=submit]")
    assert "1 tenant(s) suspended." in page.inner_text(".messagelist")


def api_get(base_url, path, token):
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
