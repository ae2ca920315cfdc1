"""Writes to identity: users, groups and their grants. One transaction each."""

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from audit.services import SYSTEM, Actor, record
from catalog.fixtures import GroupTemplate, load_catalog_fixture
from config.changes import ChangeLog
from config.api.exceptions import Conflict, DuplicateResource, ValidationFailed
from identity import api_keys
from identity.models import ApiKey, ApiKeyStatus, Group, GroupPermission, User, UserGroup
from identity.sessions import IssuedInvitation, create_invitation
from tenancy.selectors import entitled_actions
from tenancy.services import ensure_platform_tenant

__all__ = [
    "NewApiKey",
    "NewUser",
    "create_api_key",
    "create_platform_staff",
    "create_user",
    "rotate_api_key",
    "seed_tenant_groups",
    "set_api_key_status",
]


def _normalize_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip())


@dataclass(frozen=True)
class NewUser:
    user: User
    # Set when the user was created without a password: shown once, to whoever created the user.
    invitation: IssuedInvitation | None


@transaction.atomic
def create_user(*, tenant, email: str, password: str | None = None, name: str = "", actor: Actor = SYSTEM, **fields) -> NewUser:
    user = User(tenant=tenant, email=_normalize_email(email), name=name, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    invitation = None if password else create_invitation(user=user, created_by=actor.user)
    record(
        tenant=tenant,
        action="users.create",
        entity_type="user",
        entity_id=user.pk,
        actor=actor,
        metadata={"fields": sorted(["email", "name", *fields]), "invited": invitation is not None},
    )
    return NewUser(user=user, invitation=invitation)


@transaction.atomic
def create_platform_staff(*, email: str, password: str | None, superuser: bool = False, name: str = "") -> User:
    """A staff member of the platform tenant in the platform admin group (admin + platform routes)."""
    platform = ensure_platform_tenant()
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


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    # The full `aza8_…` key: returned once, never stored.
    key: str


def _validated_networks(networks) -> list[str]:
    normalized = []
    for network in networks or []:
        try:
            normalized.append(str(ipaddress.ip_network(str(network).strip(), strict=False)))
        except ValueError as exc:
            raise ValidationFailed(details={"allowedIps": [f"{network!r} is not an IP address or network."]}) from exc
    return normalized


@transaction.atomic
def create_api_key(
    *, tenant, name: str, profile: str | None = None, scopes=(), expires_at=None, allowed_networks=(), actor: Actor = SYSTEM
) -> NewApiKey:
    if bool(profile) == bool(scopes):
        raise ValidationFailed("Give either a profile or a list of scopes.")
    if ApiKey.objects.for_tenant(tenant).filter(name=name).exists():
        raise DuplicateResource("An API key with this name already exists.")
    generated = api_keys.generate_key()
    api_key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        profile=profile or None,
        scopes=sorted(set(scopes)),
        prefix=generated.prefix,
        digest=generated.digest,
        pepper_version=generated.pepper_version,
        expires_at=expires_at,
        allowed_networks=_validated_networks(allowed_networks),
        created_by=actor.user,
    )
    record(tenant=tenant, action="api_keys.create", entity_type="api_key", entity_id=api_key.pk, actor=actor,
           metadata={"profile": profile, "scopeCount": len(api_key.scopes), "prefix": api_key.prefix})
    return NewApiKey(api_key=api_key, key=generated.full_key)


@transaction.atomic
def rotate_api_key(*, api_key: ApiKey, actor: Actor = SYSTEM) -> NewApiKey:
    """A new secret (and prefix) for the same key; the old one stops working at once."""
    generated = api_keys.generate_key()
    api_key.prefix, api_key.digest, api_key.pepper_version = generated.prefix, generated.digest, generated.pepper_version
    api_key.save(update_fields=["prefix", "digest", "pepper_version", "updated_at"])
    record(tenant=api_key.tenant, action="api_keys.rotate", entity_type="api_key", entity_id=api_key.pk, actor=actor,
           metadata={"prefix": api_key.prefix})
    return NewApiKey(api_key=api_key, key=generated.full_key)


@transaction.atomic
def set_api_key_status(*, api_key: ApiKey, status: str, reason: str = "", actor: Actor = SYSTEM) -> ApiKey:
    if api_key.status == ApiKeyStatus.REVOKED and status != ApiKeyStatus.REVOKED:
        raise Conflict("A revoked API key cannot be reactivated; create a new one.")
    if status == ApiKeyStatus.SUSPENDED and not reason:
        raise ValidationFailed(details={"reason": ["A reason is required when suspending."]})
    api_key.status, api_key.suspended_reason = status, reason
    api_key.save(update_fields=["status", "suspended_reason", "updated_at"])
    record(tenant=api_key.tenant, action="api_keys.status.update", entity_type="api_key", entity_id=api_key.pk,
           actor=actor, metadata={"status": status})
    return api_key
