"""Each uniqueness and check rule holds in the database itself, not only in forms or services."""

import pytest
from django.db import IntegrityError, transaction

from identity.models import Group, User
from tenancy.models import Tenant, TenantToolOverride
from tests.factories import (
    GroupFactory,
    PackageActionFactory,
    TenantFactory,
    TenantPackageFactory,
    ToolActionFactory,
    ToolFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_same_email_in_two_tenants_is_allowed():
    first, second = TenantFactory(), TenantFactory()
    UserFactory(tenant=first, email="ana@example.com")
    UserFactory(tenant=second, email="ana@example.com")
    assert User.objects.filter(email="ana@example.com").count() == 2


def test_same_email_twice_in_one_tenant_is_refused_whatever_the_case():
    tenant = TenantFactory()
    UserFactory(tenant=tenant, email="ana@example.com")
    refused(lambda: UserFactory(tenant=tenant, email="ANA@Example.com"))


def test_group_names_are_unique_per_tenant_case_insensitively():
    tenant, other = TenantFactory(), TenantFactory()
    GroupFactory(tenant=tenant, name="Sales")
    GroupFactory(tenant=other, name="Sales")
    refused(lambda: GroupFactory(tenant=tenant, name="sales"))
    assert Group.objects.filter(name__iexact="sales").count() == 2


def test_catalog_keys_are_unique():
    tool = ToolFactory(key="crm")
    refused(lambda: ToolFactory(key="crm"))
    ToolActionFactory(tool=tool, key="crm.deals.read")
    refused(lambda: ToolActionFactory(tool=tool, key="crm.deals.read"))


def test_a_package_holds_an_action_once():
    link = PackageActionFactory()
    refused(lambda: PackageActionFactory(package=link.package, tool_action=link.tool_action))


def test_a_tenant_holds_a_package_once():
    held = TenantPackageFactory()
    refused(lambda: TenantPackageFactory(tenant=held.tenant, package=held.package))


def test_tenant_slugs_are_unique_and_there_is_one_platform_tenant():
    TenantFactory(slug="acme")
    refused(lambda: TenantFactory(slug="acme"))
    TenantFactory(slug="first-platform", is_platform=True)
    refused(lambda: TenantFactory(slug="second-platform", is_platform=True))


def test_status_outside_its_choices_is_refused_by_the_database():
    tenant = TenantFactory()
    refused(lambda: Tenant.objects.filter(pk=tenant.pk).update(status="deleted"))


def test_an_override_targets_exactly_one_of_tool_or_action():
    tenant, action = TenantFactory(), ToolActionFactory()
    refused(lambda: TenantToolOverride.objects.create(tenant=tenant))
    refused(lambda: TenantToolOverride.objects.create(tenant=tenant, tool=action.tool, tool_action=action))
    TenantToolOverride.objects.create(tenant=tenant, tool_action=action, flags={"enabled": False})
    refused(lambda: TenantToolOverride.objects.create(tenant=tenant, tool_action=action))
