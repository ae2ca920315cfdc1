from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import ActionScope
from tenancy.models import TenantToolOverride
from tenancy.selectors import entitled_actions
from tests.factories import (
    PackageActionFactory,
    TenantFactory,
    TenantPackageFactory,
    ToolActionFactory,
    ToolFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    core = ToolFactory(key="core", is_core=True)
    product = ToolFactory(key="crm")
    return {
        "core_read": ToolActionFactory(tool=core, key="things.read"),
        "core_platform": ToolActionFactory(tool=core, key="tenants.read", scope=ActionScope.PLATFORM),
        "deals": ToolActionFactory(tool=product, key="crm.deals.read"),
        "reports": ToolActionFactory(tool=product, key="crm.reports.read"),
    }


def keys(tenant, **kwargs):
    return set(entitled_actions(tenant, **kwargs).values_list("key", flat=True))


def test_core_actions_need_no_package_and_platform_actions_stay_in_the_platform(catalog):
    assert keys(TenantFactory()) == {"things.read"}
    assert keys(TenantFactory(is_platform=True)) == {"things.read", "tenants.read"}


def test_a_held_package_entitles_its_actions_only(catalog):
    tenant = TenantFactory()
    link = PackageActionFactory(tool_action=catalog["deals"])
    TenantPackageFactory(tenant=tenant, package=link.package)
    assert keys(tenant) == {"things.read", "crm.deals.read"}
    assert keys(TenantFactory()) == {"things.read"}


def test_expired_suspended_or_inactive_packages_entitle_nothing(catalog):
    tenant = TenantFactory()
    link = PackageActionFactory(tool_action=catalog["deals"])
    held = TenantPackageFactory(tenant=tenant, package=link.package, expires_at=timezone.now() + timedelta(hours=1))
    assert "crm.deals.read" in keys(tenant)
    assert "crm.deals.read" not in keys(tenant, at=timezone.now() + timedelta(hours=2))
    held.status = "suspended"
    held.save()
    assert "crm.deals.read" not in keys(tenant)
    held.status = "active"
    held.save()
    link.package.status = "suspended"
    link.package.save()
    assert "crm.deals.read" not in keys(tenant)


def test_inactive_actions_and_tools_are_not_entitled(catalog):
    tenant = TenantFactory()
    for action in ("deals", "reports"):
        link = PackageActionFactory(tool_action=catalog[action])
        TenantPackageFactory(tenant=tenant, package=link.package)
    catalog["deals"].status = "suspended"
    catalog["deals"].save()
    assert keys(tenant) == {"things.read", "crm.reports.read"}
    catalog["reports"].tool.status = "suspended"
    catalog["reports"].tool.save()
    assert keys(tenant) == {"things.read"}


def test_overrides_disable_an_action_or_a_whole_tool_for_one_tenant(catalog):
    tenant, other = TenantFactory(), TenantFactory()
    for target in (tenant, other):
        for action in ("deals", "reports"):
            link = PackageActionFactory(tool_action=catalog[action])
            TenantPackageFactory(tenant=target, package=link.package)
    TenantToolOverride.objects.create(tenant=tenant, tool_action=catalog["deals"], flags={"enabled": False})
    assert keys(tenant) == {"things.read", "crm.reports.read"}
    TenantToolOverride.objects.create(tenant=tenant, tool=catalog["reports"].tool, flags={"enabled": False})
    assert keys(tenant) == {"things.read"}
    assert keys(other) == {"things.read", "crm.deals.read", "crm.reports.read"}
    TenantToolOverride.objects.create(tenant=other, tool=catalog["deals"].tool, flags={"enabled": True})
    assert keys(other) == {"things.read", "crm.deals.read", "crm.reports.read"}


def test_a_holding_expires_for_its_tenant_whoever_else_holds_the_package(catalog):
    tenant, other = TenantFactory(), TenantFactory()
    link = PackageActionFactory(tool_action=catalog["deals"])
    TenantPackageFactory(tenant=tenant, package=link.package, expires_at=timezone.now() - timedelta(minutes=1))
    TenantPackageFactory(tenant=other, package=link.package)
    assert "crm.deals.read" not in keys(tenant)
    assert "crm.deals.read" in keys(other)
