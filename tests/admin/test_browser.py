"""The back office in a real browser: Debian's Chromium driven by Playwright against a live server.

Each step leaves a screenshot in tests/artifacts/admin/ (kept by CI as the visual record of a run).
"""

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from identity.sessions import login
from identity.staff_roles import OPERATOR
from outbox.models import DeliveryStatus, WebhookDelivery
from tenancy.models import Tenant
from tests.admin.conftest import STAFF_PASSWORD
from tests.admin.test_back_office import make_delivery
from tests.factories import TenantFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "tests" / "artifacts" / "admin"
CLIENT_PASSWORD = "correct horse battery"

if not Path(CHROMIUM).exists():
    # CI sets REQUIRE_BROWSER, so there a missing browser fails the run instead of skipping it.
    if os.environ.get("REQUIRE_BROWSER"):
        raise RuntimeError(f"{CHROMIUM} is missing: bin/ensure-chromium installs it")
    pytest.skip(f"{CHROMIUM} is not installed (bin/ensure-chromium installs it)", allow_module_level=True)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

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
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def operator(seeded, make_staff):
    return make_staff(OPERATOR, email="operator@aza8.com")


def shot(page, name):
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, email, password):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def run_action(page, changelist, row_pk, action):
    page.goto(changelist)
    page.check(f"input[name=_selected_action][value='{row_pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def api_get(base_url, path, token):
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_staff_suspends_a_tenant_with_a_reason_and_its_token_stops_working(page, operator, live_server):
    tenant = TenantFactory(slug="acme", name="Acme")
    UserFactory(tenant=tenant, email="boss@acme.com")
    token = login(tenant_slug="acme", email="boss@acme.com", password=CLIENT_PASSWORD, ip="127.0.0.1").access_token
    assert api_get(live_server.url, "/v1/me", token)[0] == 200

    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.wait_for_selector("#dashboard")
    shot(page, "01-dashboard")

    run_action(page, "/admin/tenancy/tenant/?q=acme", tenant.pk, "suspend")
    page.fill("textarea[name=reason]", "Invoice 2026-11 unpaid")
    shot(page, "02-suspend-reason")
    page.click("#reason-form input[type=submit]")
    assert "1 tenant(s) suspended." in page.inner_text(".messagelist")
    shot(page, "03-tenant-suspended")

    tenant.refresh_from_db()
    assert (tenant.status, tenant.suspended_reason) == ("suspended", "Invoice 2026-11 unpaid")
    status, body = api_get(live_server.url, "/v1/me", token)
    assert (status, body["error"]["code"]) == (403, "TENANT_SUSPENDED")


def test_staff_requeues_a_dead_delivery(page, operator):
    delivery = make_delivery(TenantFactory(slug="acme"), DeliveryStatus.DEAD)
    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.goto("/admin/outbox/webhookdelivery/?status__exact=dead")
    shot(page, "04-dead-deliveries")
    run_action(page, "/admin/outbox/webhookdelivery/?status__exact=dead", delivery.pk, "requeue")
    assert "1 requeued." in page.inner_text(".messagelist")
    shot(page, "05-delivery-requeued")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 0)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DEAD).count() == 0


def test_a_client_tenant_user_cannot_log_in(page, seeded):
    client_tenant = TenantFactory(slug="acme")
    UserFactory(tenant=client_tenant, email="boss@acme.com", is_staff=True, is_superuser=True)
    sign_in(page, "boss@acme.com", CLIENT_PASSWORD)
    assert "for a staff account" in page.inner_text(".errornote")
    shot(page, "06-client-user-refused")
    page.goto("/admin/tenancy/tenant/")
    assert "/admin/login/" in page.url
    assert Tenant.objects.get(slug="acme").status == "active"
