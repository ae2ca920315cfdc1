"""Writes to identity: users, groups and their grants. One transaction each."""

import ipaddress
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audit.idempotency import redact_stored_responses
from audit.services import SYSTEM, Actor, record
from core.api.exceptions import Conflict, DuplicateResource, ForbiddenAction, NotFound, Unprocessable, ValidationFailed
from core.cache.versions import bump_tenant_version
from core.db.models import Status, change_status
from identity import api_keys
from identity.live_sessions import end_user_sessions
from identity.models import ApiKey, ApiKeyStatus, Group, GroupPermission, Invitation, User, UserGroup
from identity.sessions import IssuedInvitation, check_credential_change, create_invitation
from outbox.services import emit
from tenancy.selectors import entitled_actions
from tenancy.services import access_changed

__all__ = [
    "NewApiKey",
    "NewUser",
    "add_member",
    "create_api_key",
    "create_group",
    "create_user",
    "delete_user",
    "grant_permissions",
    "reissue_invitation",
    "remove_member",
    "revoke_permission",
    "rotate_api_key",
    "set_api_key_status",
    "set_group_status",
    "set_staff_roles",
    "set_user_status",
    "update_group",
    "update_user",
]


def _ensure_unique(model, *, tenant, field: str, value: str, exclude=None) -> None:
    """409 instead of an IntegrityError: the case-insensitive unique constraints, checked first."""
    clash = model.objects.for_tenant(tenant).filter(**{f"{field}__iexact": value})
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise DuplicateResource(f"A {model._meta.verbose_name} with this {field} already exists in the tenant.")


def _normalize_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip())


@dataclass(frozen=True)
class NewUser:
    user: User
    # Set when the user was created without a password: shown once, to whoever created the user.
    invitation: IssuedInvitation | None


@transaction.atomic
def create_user(*, tenant, email: str, password: str | None = None, name: str = "", actor: Actor = SYSTEM, **fields) -> NewUser:
    email = _normalize_email(email)
    _ensure_unique(User, tenant=tenant, field="email", value=email)
    user = User(tenant=tenant, email=email, name=name, **fields)
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
    emit("user.created", tenant=tenant, data={"userId": str(user.pk), "invited": invitation is not None})
    return NewUser(user=user, invitation=invitation)


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
            raise ValidationFailed(details={"allowedIps": [f"\"{network}\" is not an IP address or network."]}) from exc
    return normalized


@transaction.atomic
def create_api_key(
    *,
    tenant,
    name: str,
    profile: str | None = None,
    scopes=(),
    expires_at=None,
    allowed_networks=(),
    actor: Actor = SYSTEM,
    granter_permissions: frozenset | None = None,
) -> NewApiKey:
    if bool(profile) == bool(scopes):
        raise Unprocessable("Give either a profile or a list of scopes.", details={"profile": ["Give this or scopes."]})
    if expires_at is not None and expires_at <= timezone.now():
        # Refused rather than created dead: every use of such a key would be a 401.
        raise Unprocessable(details={"expiresAt": ["Must be in the future."]})
    entitled = entitled_actions(tenant)
    if scopes:
        known = set(entitled.filter(key__in=list(scopes)).values_list("key", flat=True))
        unknown = sorted(set(scopes) - known)
        if unknown:
            raise Unprocessable("Some scopes are unknown or not available to this tenant.", details={"scopes": unknown})
        reach = known
    else:
        reach = set(entitled.filter(access_level__in=api_keys.profile_access_levels(profile)).values_list("key", flat=True))
    # Nobody mints a key that can do more than they can: that would be a way around their grants.
    if granter_permissions is not None and not reach <= granter_permissions:
        raise ForbiddenAction(
            "The key would allow actions you do not have.", details={"toolActions": sorted(reach - granter_permissions)}
        )
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
    emit("api_key.created", tenant=tenant, data={"apiKeyId": str(api_key.pk), "name": api_key.name})
    return NewApiKey(api_key=api_key, key=generated.full_key)


@transaction.atomic
def rotate_api_key(*, api_key: ApiKey, actor: Actor = SYSTEM) -> NewApiKey:
    """A new secret (and prefix) for the same key; the old one stops working at once."""
    if api_key.status == ApiKeyStatus.REVOKED:
        raise Conflict("A revoked API key cannot be rotated; create a new one.")
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
    previous = change_status(api_key, status, reason, suspended=ApiKeyStatus.SUSPENDED)
    # The key's row keeps the reason while it is suspended; the trail keeps every reason, a revocation's too.
    record(tenant=api_key.tenant, action="api_keys.status.update", entity_type="api_key", entity_id=api_key.pk,
           actor=actor, metadata={"from": previous, "to": status, **({"reason": reason} if reason else {})})
    if status == ApiKeyStatus.REVOKED and previous != ApiKeyStatus.REVOKED:
        emit("api_key.revoked", tenant=api_key.tenant, data={"apiKeyId": str(api_key.pk), "name": api_key.name})
    access_changed(tenant=api_key.tenant, reason="api_key", api_key_id=api_key.pk)
    return api_key


# --- Users ------------------------------------------------------------------------------------


def _changed(instance, values: dict) -> list[str]:
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed


def update_user(*, user: User, actor: Actor, current_password: str | None = None, session=None, **values) -> User:
    """A change of a user's fields, in one transaction. The user's own change of their e-mail (the
    login) or password needs proof first (`sessions.check_credential_change`) and ends every other
    session of theirs: all but `session`, the caller's."""
    if "email" in values:
        values["email"] = _normalize_email(values["email"])
    own_credentials = check_credential_change(user=user, actor=actor, values=values, current_password=current_password)
    with transaction.atomic():
        if "email" in values:
            _ensure_unique(User, tenant=user.tenant, field="email", value=values["email"], exclude=user)
        password = values.pop("password", None)
        changed = _changed(user, values)
        if password is not None:
            user.set_password(password)
            changed.append("password")
        if not changed:
            return user
        user.save(update_fields=[*changed, "updated_at"])
        metadata = {"changedFields": sorted(changed)}
        if own_credentials:
            # Fail-closed (503) if the other sessions' access tokens cannot be refused at once.
            metadata["endedRefreshTokens"] = end_user_sessions(user, keep=session, confirm=True)
        record(tenant=user.tenant, action="users.update", entity_type="user", entity_id=user.pk, actor=actor,
               metadata=metadata)
        emit("user.updated", tenant=user.tenant, data={"userId": str(user.pk), "changedFields": sorted(changed)})
    return user


@transaction.atomic
def reissue_invitation(*, user: User, actor: Actor) -> IssuedInvitation:
    """A fresh invitation for someone who lost theirs: the old, unused ones stop working at once."""
    if user.deleted_at is not None:
        raise Conflict("A deleted user cannot be invited again.")
    if user.status != Status.ACTIVE:
        raise Conflict("Reactivate the user before inviting them again.")
    Invitation.objects.for_tenant(user.tenant).filter(user=user, accepted_at__isnull=True).delete()
    invitation = create_invitation(user=user, created_by=actor.user)
    record(tenant=user.tenant, action="users.invitations.reissue", entity_type="user", entity_id=user.pk,
           actor=actor, metadata={"expiresAt": invitation.expires_at.isoformat()})
    return invitation


@transaction.atomic
def set_staff_roles(*, user: User, roles, actor: Actor) -> None:
    """The back-office roles (Django permission groups) of a platform staff member."""
    if not (user.is_staff and user.tenant.is_platform):
        raise Conflict("Only platform staff hold staff roles.")
    before = set(user.groups.values_list("name", flat=True))
    user.groups.set(roles)
    after = set(user.groups.values_list("name", flat=True))
    if before != after:
        record(tenant=user.tenant, action="staff.roles.update", entity_type="user", entity_id=user.pk, actor=actor,
               metadata={"added": sorted(after - before), "removed": sorted(before - after)})


@transaction.atomic
def set_user_status(*, user: User, status: str, reason: str = "", actor: Actor) -> User:
    if actor.user is not None and actor.user.pk == user.pk and status == Status.SUSPENDED:
        raise Conflict("You cannot suspend yourself.")
    previous = change_status(user, status, reason)
    if status == Status.SUSPENDED:
        end_user_sessions(user, confirm=False)
    bump_tenant_version(user.tenant_id)
    record(tenant=user.tenant, action="users.status.update", entity_type="user", entity_id=user.pk, actor=actor,
           metadata={"from": previous, "to": status})
    data = {"userId": str(user.pk), "status": status}
    emit("user.status.changed", tenant=user.tenant, data=data)
    emit("user.updated", tenant=user.tenant, data={**data, "changedFields": ["status"]})
    access_changed(tenant=user.tenant, reason="user_status", user_id=user.pk)
    return user


@transaction.atomic
def delete_user(*, user: User, actor: Actor) -> User:
    """Soft delete with irreversible anonymisation: the id stays for the audit trail, the person goes.

    Email and name are overwritten (not hashed: a hash of an email can be matched against a guess)
    in the user row and in every stored idempotent response that showed them; the audit log and
    events never held them. Sessions end, and the API keys the user created are revoked: whoever
    still needs one creates a key under their own name.
    """
    if actor.user is not None and actor.user.pk == user.pk:
        raise Conflict("You cannot delete yourself.")
    user.email = f"deleted-{user.pk.hex}@anonymised.invalid"
    user.name = ""
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save(update_fields=["email", "name", "deleted_at", "password", "updated_at"])
    redact_stored_responses(tenant=user.tenant, resource_id=user.pk, replacements={"email": user.email, "name": ""})
    end_user_sessions(user, confirm=False)
    Invitation.objects.for_tenant(user.tenant).filter(user=user, accepted_at__isnull=True).delete()
    UserGroup.objects.for_tenant(user.tenant).filter(user=user).delete()
    for api_key in ApiKey.objects.for_tenant(user.tenant).filter(created_by=user).exclude(status=ApiKeyStatus.REVOKED):
        set_api_key_status(api_key=api_key, status=ApiKeyStatus.REVOKED, actor=actor)
    bump_tenant_version(user.tenant_id)
    record(tenant=user.tenant, action="users.delete", entity_type="user", entity_id=user.pk, actor=actor,
           metadata={"anonymised": True})
    emit("user.updated", tenant=user.tenant, data={"userId": str(user.pk), "deleted": True})
    access_changed(tenant=user.tenant, reason="user_status", user_id=user.pk)
    return user


# --- Groups, memberships, grants --------------------------------------------------------------


@transaction.atomic
def create_group(*, tenant, name: str, description: str = "", actor: Actor) -> Group:
    _ensure_unique(Group, tenant=tenant, field="name", value=name)
    group = Group.objects.create(tenant=tenant, name=name, description=description)
    record(tenant=tenant, action="groups.create", entity_type="group", entity_id=group.pk, actor=actor)
    emit("group.created", tenant=tenant, data={"groupId": str(group.pk), "name": group.name})
    return group


@transaction.atomic
def update_group(*, group: Group, actor: Actor, **values) -> Group:
    if "name" in values:
        _ensure_unique(Group, tenant=group.tenant, field="name", value=values["name"], exclude=group)
    changed = _changed(group, values)
    if changed:
        group.save(update_fields=[*changed, "updated_at"])
        if "name" in changed:
            bump_tenant_version(group.tenant_id)
        record(tenant=group.tenant, action="groups.update", entity_type="group", entity_id=group.pk, actor=actor,
               metadata={"changedFields": sorted(changed)})
        emit("group.updated", tenant=group.tenant, data={"groupId": str(group.pk), "changedFields": sorted(changed)})
    return group


@transaction.atomic
def set_group_status(*, group: Group, status: str, reason: str = "", actor: Actor) -> Group:
    previous = change_status(group, status, reason)
    bump_tenant_version(group.tenant_id)
    record(tenant=group.tenant, action="groups.status.update", entity_type="group", entity_id=group.pk,
           actor=actor, metadata={"from": previous, "to": status})
    emit("group.updated", tenant=group.tenant, data={"groupId": str(group.pk), "changedFields": ["status"]})
    # Every member gains or loses the group's grants: tenant-wide, like a grant.
    access_changed(tenant=group.tenant, reason="grant")
    return group


@transaction.atomic
def add_member(*, group: Group, user: User, actor: Actor) -> UserGroup:
    if user.deleted_at is not None:
        raise Conflict("A deleted user cannot join a group.")
    membership, created = UserGroup.objects.get_or_create(tenant=group.tenant, group=group, user=user)
    if created:
        bump_tenant_version(group.tenant_id)
        record(tenant=group.tenant, action="groups.members.add", entity_type="group", entity_id=group.pk,
               actor=actor, metadata={"userId": str(user.pk)})
        emit("user_group.changed", tenant=group.tenant,
             data={"groupId": str(group.pk), "userId": str(user.pk), "change": "added"})
        access_changed(tenant=group.tenant, reason="membership", user_id=user.pk)
    return membership


@transaction.atomic
def remove_member(*, group: Group, user: User, actor: Actor) -> None:
    deleted, _ = UserGroup.objects.for_tenant(group.tenant).filter(group=group, user=user).delete()
    if not deleted:
        raise NotFound("The user is not a member of this group.")
    bump_tenant_version(group.tenant_id)
    record(tenant=group.tenant, action="groups.members.remove", entity_type="group", entity_id=group.pk,
           actor=actor, metadata={"userId": str(user.pk)})
    emit("user_group.changed", tenant=group.tenant,
         data={"groupId": str(group.pk), "userId": str(user.pk), "change": "removed"})
    access_changed(tenant=group.tenant, reason="membership", user_id=user.pk)


@transaction.atomic
def grant_permissions(*, group: Group, tool_action_keys, actor: Actor) -> list[GroupPermission]:
    """Grant actions to a group: each must exist, be entitled to the tenant (so platform-scope keys
    are refused outside the platform tenant). Already-granted keys are kept as they are."""
    keys = sorted(set(tool_action_keys))
    entitled = {action.key: action for action in entitled_actions(group.tenant).filter(key__in=keys)}
    refused = [key for key in keys if key not in entitled]
    if refused:
        raise Unprocessable(
            "Some actions are unknown or not available to this tenant.", details={"toolActions": refused}
        )
    existing = set(
        GroupPermission.objects.for_tenant(group.tenant).filter(group=group).values_list("tool_action__key", flat=True)
    )
    new = [GroupPermission(tenant=group.tenant, group=group, tool_action=entitled[key]) for key in keys if key not in existing]
    GroupPermission.objects.bulk_create(new)
    if new:
        bump_tenant_version(group.tenant_id)
        granted = [grant.tool_action.key for grant in new]
        record(tenant=group.tenant, action="groups.permissions.grant", entity_type="group", entity_id=group.pk,
               actor=actor, metadata={"toolActions": granted})
        emit("group.permission.changed", tenant=group.tenant,
             data={"groupId": str(group.pk), "granted": granted, "revoked": []})
        access_changed(tenant=group.tenant, reason="grant")
    return list(GroupPermission.objects.for_tenant(group.tenant).filter(group=group, tool_action__key__in=keys)
                .select_related("tool_action"))


@transaction.atomic
def revoke_permission(*, permission: GroupPermission, actor: Actor) -> None:
    key = permission.tool_action.key
    group = permission.group
    permission.delete()
    bump_tenant_version(group.tenant_id)
    record(tenant=group.tenant, action="groups.permissions.revoke", entity_type="group", entity_id=group.pk,
           actor=actor, metadata={"toolActions": [key]})
    emit("group.permission.changed", tenant=group.tenant, data={"groupId": str(group.pk), "granted": [], "revoked": [key]})
    access_changed(tenant=group.tenant, reason="grant")
