"""Every changelist of the back office, and a row of each opened, filled with long values, fits a 1366x768
window."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, IntervalSchedule, SolarSchedule

from audit.models import AuditLog, IdempotencyKey
from audit.services import Actor
from branding.services import replace_branding, replace_config
from catalog.models import Tool, ToolAction
from exports.models import TenantExport
from identity import services as identity
from identity.onboarding import onboard_tenant
from identity.product_credentials import issue_product_credential
from identity.sessions import login
from integrations.services import create_credential
from outbox.models import DeliveryStatus, WebhookDeliveryAttempt
from tenancy.models import TenantToolOverride
from tests.admin.browser.conftest import CLIENT_PASSWORD, shot, sign_in
from tests.admin.conftest import STAFF_PASSWORD
from tests.admin.test_back_office import make_delivery
from usage.models import UsageMetric

pytestmark = pytest.mark.django_db(transaction=True)

LONG_EMAIL = "maria-fernanda.albuquerque-de-vasconcelos@concessionaria-automoveis-do-nordeste.example.com"
LONG_URL = "https://hooks.concessionaria-automoveis-do-nordeste.example.com/integrations/aza8/webhooks/v1/inbound"


def fill_every_table(staff):
    """At least one row of every kind the admin lists, with values as long as real clients send."""
    actor = Actor.for_user(staff)
    onboarded = onboard_tenant(slug="concessionaria-automoveis-do-nordeste",
                               name="Concessionária de Automóveis do Nordeste Brasileiro Ltda.",
                               package_key="erp-pro", admin_email=LONG_EMAIL,
                               admin_name="Maria Fernanda Albuquerque de Vasconcelos", actor=actor)
    tenant, user = onboarded.tenant, onboarded.admin.user
    user.set_password(CLIENT_PASSWORD)  # as if the invitation were accepted
    user.save(update_fields=["password"])
    login(tenant_slug=tenant.slug, email=LONG_EMAIL, password=CLIENT_PASSWORD, ip="127.0.0.1")
    identity.create_api_key(tenant=tenant, name="Integração com o sistema de estoque da matriz", profile="read-only",
                            actor=actor)
    tool = Tool.objects.get(key="erp")
    issue_product_credential(tool=tool, name="Dealer ERP production cluster (São Paulo)", actor=actor)
    TenantToolOverride.objects.create(tenant=tenant, tool=tool, flags={"enabled": False})
    replace_branding(tenant=tenant, logo_url=f"{LONG_URL}/logo.png", primary_color="#0a3d62",
                     secondary_color="#f6b93b", domain="portal.concessionaria-automoveis-do-nordeste.example.com",
                     actor=actor)
    replace_config(tenant=tenant, flags={"beta_reports": True}, limits={"users": 250}, actor=actor)
    create_credential(tenant=tenant, provider="whatsapp-business-cloud", name="Número principal de atendimento",
                      data={"token": "not shown anywhere"}, actor=actor)
    delivery = make_delivery(tenant, DeliveryStatus.DEAD, response_code=502)
    delivery.subscription.url = LONG_URL
    delivery.subscription.save(update_fields=["url"])
    WebhookDeliveryAttempt.objects.create(
        tenant=tenant, delivery=delivery, number=1, started_at=timezone.now(), response_status=502, latency_ms=30_000,
        error="HTTPSConnectionPool(host='hooks.concessionaria-automoveis-do-nordeste.example.com', port=443): "
              "Read timed out. (read timeout=30)", response_excerpt="<html>Bad gateway</html>")
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    UsageMetric.objects.create(tenant=tenant, tool_action=ToolAction.objects.get(key="erp.vehicles.read"),
                               period_start=hour, period_end=hour + timedelta(hours=1), count=1234)
    IdempotencyKey.objects.create(tenant=tenant, key="9f1c2d4e-6b7a-4c3d-8e9f-0a1b2c3d4e5f-retry-after-timeout",
                                  handler="identity.api.users.UserViewSet.create", principal=f"user:{user.pk}",
                                  fingerprint="0" * 64)
    TenantExport.objects.create(tenant=tenant, requested_by_type="user", requested_by_id=user.pk)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    IntervalSchedule.objects.create(every=90, period=IntervalSchedule.SECONDS)
    SolarSchedule.objects.create(event="sunrise", latitude=-8.05, longitude=-34.9)
    assert AuditLog.objects.filter(actor_user=staff).exists()


def test_every_list_and_detail_page_fits_the_window(page, operator):
    operator.is_superuser = True  # the one account that may open every list
    operator.save(update_fields=["is_superuser"])
    fill_every_table(operator)
    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.wait_for_selector("#dashboard")

    empty, overflowing = [], []

    def look(name):
        try:
            shot(page, name)
        except AssertionError as problem:
            overflowing.append(str(problem))

    for model in admin.site._registry:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        page.goto(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        first_row = page.locator("#result_list tbody tr").first.locator("a[href*='/change/']")
        if not first_row.count():
            empty.append(label)
            continue
        look(f"list-{label}")
        with page.expect_navigation():
            first_row.first.click()
        look(f"detail-{label}")
    assert not empty, f"give these lists a row in fill_every_table, so their columns are checked: {empty}"
    assert not overflowing, "\n".join(overflowing)
