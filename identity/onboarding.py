"""Platform operations that span tenancy and identity: onboarding, packages with their groups."""

from dataclasses import dataclass

from django.db import transaction

from audit.services import Actor, record
from catalog.models import Package
from config.api.exceptions import ValidationFailed
from config.changes import ChangeLog
from identity.models import Group
from identity.services import NewUser, add_member, create_user, seed_tenant_groups
from tenancy import services as tenancy
from tenancy.models import Tenant, TenantPackage

__all__ = ["Onboarded", "assign_package", "onboard_tenant", "run_tenant_seed"]

TENANT_ADMIN_GROUP = "ADM_CLIENTE"


@dataclass(frozen=True)
class Onboarded:
    tenant: Tenant
    tenant_package: TenantPackage
    admin: NewUser


def _active_package(key: str) -> Package:
    package = Package.objects.filter(key=key).first()
    if package is None:
        raise ValidationFailed(details={"packageKey": [f"No package {key!r}."]})
    return package


@transaction.atomic
def onboard_tenant(*, slug: str, name: str, package_key: str, admin_email: str, admin_name: str = "",
                   expires_at=None, actor: Actor) -> Onboarded:
    """Tenant, package, base groups, and its first ADM_CLIENTE admin (invited): all or nothing."""
    package = _active_package(package_key)
    tenant = tenancy.create_tenant(slug=slug, name=name, actor=actor)
    held = tenancy.assign_package(tenant=tenant, package=package, expires_at=expires_at, actor=actor)
    seed_tenant_groups(tenant=tenant)
    admin = create_user(tenant=tenant, email=admin_email, name=admin_name, actor=actor)
    add_member(group=Group.objects.for_tenant(tenant).get(name=TENANT_ADMIN_GROUP), user=admin.user, actor=actor)
    return Onboarded(tenant=tenant, tenant_package=held, admin=admin)


@transaction.atomic
def assign_package(*, tenant: Tenant, package_key: str, expires_at=None, actor: Actor) -> TenantPackage:
    held = tenancy.assign_package(tenant=tenant, package=_active_package(package_key), expires_at=expires_at, actor=actor)
    seed_tenant_groups(tenant=tenant)
    return held


@transaction.atomic
def run_tenant_seed(*, tenant: Tenant, actor: Actor) -> ChangeLog:
    changes = seed_tenant_groups(tenant=tenant)
    record(tenant=tenant, action="tenants.seeds.run", entity_type="tenant", entity_id=tenant.pk, actor=actor,
           metadata={"changes": len(changes)})
    return changes
