"""Onboarding walked in Chromium: the form, the invitation shown once, the tenant at a glance, a second
package with an expiry, a suspension with its reason and the reactivation; and a busy tenant's
glance, which must fit the window too."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from audit.services import SYSTEM
from catalog.models import Package
from outbox.services import create_subscription
from tenancy.models import Tenant, TenantPackage
from tests.admin.browser.conftest import run_action, shot, sign_in, suspend_tenant
from tests.admin.conftest import STAFF_PASSWORD
from tests.admin.test_tenant_glance import populate
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_onboards_a_tenant_and_runs_it_from_its_page(page, operator):
    gestor = Package.objects.get(key="gestor-pro")
    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.goto("/admin/tenancy/tenant/")
    shot(page, "onboarding-01-tenants")

    page.click("#onboard-tenant")
    assert page.inner_text("h1") == "Onboard a tenant"
    page.fill("#id_slug", "acme")
    page.fill("#id_name", "Acme Ltda")
    page.select_option("#id_package", label=f"{Package.objects.get(key='erp-basic').name} (erp-basic)")
    page.fill("#id_admin_email", "boss@acme.com")
    page.fill("#id_admin_name", "Ana Boss")
    shot(page, "onboarding-02-form")
    page.click("input[name=_save]")

    # The invitation, once: the only page that ever shows it.
    assert "boss@acme.com" in page.inner_text("#invitations")
    token = page.inner_text("#invitations code")
    assert len(token) > 30
    shot(page, "onboarding-03-invitation-once")
    tenant = Tenant.objects.get(slug="acme")

    page.click("#open-tenant")
    assert page.url.endswith(f"/admin/tenancy/tenant/{tenant.pk}/change/")
    glance = page.inner_text("#tenant-glance")
    assert token not in page.content()
    assert "Users (1)" in glance and "boss@acme.com" in glance and "ADM_CLIENTE" in glance
    assert "erp-basic" in page.inner_text("#glance-packages")
    assert "tenants.create" in page.inner_text("#glance-audit")
    shot(page, "onboarding-04-glance")

    expiry = (timezone.now() + timedelta(days=90)).replace(second=0, microsecond=0)
    page.click("#packages_held-group .add-row a")
    page.select_option("select[name='packages_held-1-package']", value=str(gestor.pk))
    page.fill("input[name='packages_held-1-expires_at_0']", expiry.strftime("%Y-%m-%d"))
    page.fill("input[name='packages_held-1-expires_at_1']", expiry.strftime("%H:%M:%S"))
    shot(page, "onboarding-05-second-package")
    page.click("input[name=_continue]")
    assert "was changed successfully" in page.inner_text(".messagelist")
    packages = page.inner_text("#glance-packages")
    assert "gestor-pro" in packages and f"{expiry:%Y-%m-%d %H:%M} UTC" in packages
    assert TenantPackage.objects.get(tenant=tenant, package=gestor).expires_at == expiry
    shot(page, "onboarding-06-package-assigned")

    suspend_tenant(page, tenant, "Contract paused by the client", "onboarding-07-suspend-reason")
    page.goto(f"/admin/tenancy/tenant/{tenant.pk}/change/")
    assert "Contract paused by the client" in page.inner_text("#content-main")
    assert "tenants.status.update" in page.inner_text("#glance-audit")
    shot(page, "onboarding-08-suspended")

    run_action(page, "/admin/tenancy/tenant/?q=acme", tenant.pk, "reactivate")
    assert "1 tenant(s) reactivated." in page.inner_text(".messagelist")
    shot(page, "onboarding-09-reactivated")
    tenant.refresh_from_db()
    assert (tenant.status, tenant.suspended_reason) == ("active", "")
    staff_actions = AuditLog.objects.filter(tenant=tenant, actor_user=operator).values_list("action", flat=True)
    assert {"tenants.create", "tenants.packages.assign", "tenants.status.update"} <= set(staff_actions)


def test_a_busy_tenants_glance_fits_the_window(page, operator):
    tenant = TenantFactory(slug="busy", name="Busy Logistics")
    populate(tenant, 4)
    UserFactory(tenant=tenant, email="a.very.long.address.of.someone.in.accounts.payable@busy-logistics.example.com")
    create_subscription(tenant=tenant, url="https://hooks.busy-logistics.example.com/" + "very-long-path/" * 8,
                        event_types=["user.created", "user.updated", "tenant.package.assigned"], actor=SYSTEM)
    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.goto(f"/admin/tenancy/tenant/{tenant.pk}/change/")
    chart = page.locator("#glance-usage svg[role=img]")
    assert chart.count() == 1 and "Calls by busy" in chart.locator("title").first.text_content()
    assert "Users (5)" in page.inner_text("#glance-users")
    assert "#112233" in page.inner_text("#glance-branding")
    shot(page, "onboarding-10-busy-glance")
