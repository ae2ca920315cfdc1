"""Writes to identity: users, groups and their grants. One transaction each."""

from django.conf import settings
from django.db import transaction

from audit.services import SYSTEM, Actor, record
from catalog.fixtures import GroupTemplate, load_catalog_fixture
from config.changes import ChangeLog
from identity.models import Group, GroupPermission, User, UserGroup
from tenancy.selectors import entitled_actions
from tenancy.services import ensure_platform_tenant

__all__ = ["create_platform_staff", "create_user", "seed_tenant_groups"]


def _normalize_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip())


@transaction.atomic
def create_user(*, tenant, email: str, password: str | None = None, name: str = "", actor: Actor = SYSTEM, **fields) -> User:
    user = User(tenant=tenant, email=_normalize_email(email), name=name, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record(
        tenant=tenant,
        action="users.create",
        entity_type="user",
        entity_id=user.pk,
        actor=actor,
        metadata={"fields": sorted(["email", "name", *fields])},
    )
    return user


@transaction.atomic
def create_platform_staff(*, email: str, password: str | None, superuser: bool = False, name: str = "") -> User:
    """A staff member of the platform tenant in the platform admin group (admin + platform routes)."""
    platform = ensure_platform_tenant()
    seed_tenant_groups(tenant=platform)
    user = create_user(
        tenant=platform, email=email, password=password, name=name, is_staff=True, is_superuser=superuser
    )
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
    for template in templates:
        if template.applies_to(tenant):
            _top_up_group(tenant, template, entitled, changes)
    return changes
