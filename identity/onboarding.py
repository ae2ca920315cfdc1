"""Platform operations that span tenancy and identity: onboarding, packages with their groups, the
tenants' base groups (from the fixtures' group templates) and the platform's own staff."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from audit.services import Actor, record
from catalog.fixtures import GroupTemplate, load_catalog_fixture
from catalog.models import Package
from core.api.exceptions import Unprocessable
from core.cache.versions import bump_tenant_version
from core.db.changes import ChangeLog
from identity.models import Group, GroupPermission, User, UserGroup
from identity.services import NewUser, add_member, create_user
from tenancy import services as tenancy
from tenancy.models import Tenant, TenantPackage
from tenancy.selectors import entitled_actions

__all__ = ["Onboarded", "assign_package", "create_platform_staff", "onboard_tenant", "run_tenant_seed",
           "seed_tenant_groups"]

TENANT_ADMIN_GROUP = "ADM_CLIENTE"


@dataclass(frozen=True)
class Onboarded:
    tenant: Tenant
    tenant_package: TenantPackage
    admin: NewUser


def _active_package(key: str) -> Package:
    package = Package.objects.filter(key=key).first()
    if package is None:
        raise Unprocessable(details={"packageKey": [f"No package \"{key}\"."]})
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


@transaction.atomic
def create_platform_staff(*, email: str, password: str | None, superuser: bool = False, name: str = "") -> User:
    """A staff member of the platform tenant in the platform admin group (admin + platform routes)."""
    platform = tenancy.ensure_platform_tenant()
    seed_tenant_groups(tenant=platform)
    user = create_user(
        tenant=platform, email=email, password=password, name=name, is_staff=True, is_superuser=superuser
    ).user
    admin_group = Group.objects.for_tenant(platform).get(name=settings.PLATFORM_ADMIN_GROUP)
    UserGroup.objects.create(tenant=platform, user=user, group=admin_group)
    record(tenant=platform, action="groups.members.add", entity_type="group", entity_id=admin_group.pk,
           metadata={"userId": str(user.pk)})
    return user


def _top_up_group(tenant, template: GroupTemplate, entitled, changes: ChangeLog) -> None:
    group = Group.objects.for_tenant(tenant).filter(name__iexact=template.name).first()
    if group is None:
        group = Group.objects.create(tenant=tenant, name=template.name, description=template.description)
        changes.add(f"create group {template.name} in {tenant.slug}")
        record(tenant=tenant, action="groups.create", entity_type="group", entity_id=group.pk,
               metadata={"template": template.name})
    granted = set(GroupPermission.objects.for_tenant(tenant).filter(group=group).values_list("tool_action_id", flat=True))
    missing = [
        action
        for action in entitled
        if action.access_level in template.access_levels and action.scope in template.scopes and action.id not in granted
    ]
    if not missing:
        return
    GroupPermission.objects.bulk_create(
        [GroupPermission(tenant=tenant, group=group, tool_action=action) for action in missing]
    )
    changes.add(f"grant {len(missing)} action(s) to {template.name} in {tenant.slug}")
    bump_tenant_version(tenant.pk)
    record(tenant=tenant, action="groups.permissions.grant", entity_type="group", entity_id=group.pk,
           metadata={"toolActions": sorted(action.key for action in missing)})


@transaction.atomic
def seed_tenant_groups(*, tenant, templates=None, changes: ChangeLog | None = None) -> ChangeLog:
    """Create or top up the tenant's base groups with every entitled action their template covers.

    Additive: grants removed by the tenant's admins are given back, nothing is taken away (a lost
    entitlement is already refused at request time).
    """
    changes = changes if changes is not None else ChangeLog()
    templates = templates if templates is not None else load_catalog_fixture().group_templates
    entitled = list(entitled_actions(tenant))
    changes_before = len(changes)
    for template in templates:
        if template.applies_to(tenant):
            _top_up_group(tenant, template, entitled, changes)
    if len(changes) > changes_before:
        tenancy.access_changed(tenant=tenant, reason="grant")
    return changes
