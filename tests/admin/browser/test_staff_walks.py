"""Staff workflows walked in Chromium: suspending a tenant, requeuing a dead delivery, a client kept out."""

import pytest

from identity.sessions import login
from outbox.models import DeliveryStatus, WebhookDelivery
from tenancy.models import Tenant
from tests.admin.browser.conftest import CLIENT_PASSWORD, api_get, run_action, shot, sign_in, suspend_tenant
from tests.admin.conftest import STAFF_PASSWORD
from tests.admin.test_back_office import make_delivery
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_suspends_a_tenant_with_a_reason_and_its_token_stops_working(page, operator, live_server):
    tenant = TenantFactory(slug="acme", name="Acme")
    UserFactory(tenant=tenant, email="boss@acme.com")
    token = login(tenant_slug="acme", email="boss@acme.com", password=CLIENT_PASSWORD, ip="127.0.0.1").access_token
    assert api_get(live_server.url, "/v1/me", token)[0] == 200

    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.wait_for_selector("#dashboard")
    shot(page, "01-dashboard")

    suspend_tenant(page, tenant, "Invoice 2026-11 unpaid", "02-suspend-reason")
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
