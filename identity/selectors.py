"""Reads of identity: one tenant's people and grants, what a product may know of a user's access to
its tool, and whether the platform has staff yet. (Effective permissions, read on every request
through their cache: identity/authorization.py.)"""

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from catalog.selectors import tool_actions, tool_actions_cache_key
from core.cache.reads import CacheReads
from core.db.models import Status
from identity import live_sessions
from identity.authorization import access_cache_keys, principal_access
from identity.models import Group, GroupPermission, User
from identity.principal import Principal
from identity.principal_rows import USER_ROW, PrincipalRow, cache_keys
from identity.tokens import TokenType

__all__ = ["SubjectSnapshot", "group_grant", "group_grants", "group_members", "live_user", "platform_staff_exists",
           "subject_snapshot", "user_groups"]


def live_user(*, tenant, user_id) -> User | None:
    """The tenant's user with this id, unless deleted (anonymised)."""
    return User.objects.for_tenant(tenant).filter(pk=user_id, deleted_at__isnull=True).first()


def group_members(*, tenant, group):
    """The group's live users (deleted ones are anonymised, no longer a resource)."""
    return User.objects.for_tenant(tenant).filter(memberships__group=group, deleted_at__isnull=True)


def user_groups(*, tenant, user) -> list[dict]:
    """`{id, name}` of each live group `user` belongs to, by name: one query."""
    return list(Group.objects.for_tenant(tenant).filter(memberships__user=user, deleted_at__isnull=True)
                .order_by("name", "id").values("id", "name"))


def group_grants(*, tenant, group):
    return GroupPermission.objects.for_tenant(tenant).filter(group=group).select_related("tool_action")


def group_grant(*, tenant, group, grant_id) -> GroupPermission | None:
    return (GroupPermission.objects.for_tenant(tenant).filter(group=group, pk=grant_id)
            .select_related("tool_action", "group__tenant").first())


def platform_staff_exists() -> bool:
    return User.objects.filter(tenant__is_platform=True, is_staff=True).exists()


@dataclass(frozen=True)
class SubjectSnapshot:
    """What a product needs to decide for one user of one tenant on its own tool, in-process."""

    user_id: object
    tenant_id: object
    tool: str
    active: bool
    session_active: bool | None
    permissions: tuple[str, ...]
    version: str


def subject_snapshot(*, tenant, tool, user_id, session_id=None) -> SubjectSnapshot | None:
    """The user's effective permissions restricted to `tool`'s actions, whether the user (and the
    tenant) is active, and — when `session_id` is given — whether that session is alive; None when
    the tenant has no such user.

    Built from the caches a request of the user itself reads (its row, its permission entry, its
    session's state) and the tool's action keys, fetched in one round trip: warm, no query.
    `version` is a digest of the answer and of every version counter it was read under (the
    catalog's, the tenant's permissions and row, the user's row), so it changes whenever the answer
    does, and whenever something that may change it was written.
    """
    row_keys, access_keys = cache_keys(tenant.pk, TokenType.USER, user_id), access_cache_keys(
        tenant.pk, TokenType.USER, user_id)
    session_keys = [live_sessions.cache_key(tenant.pk, session_id)] if session_id else []
    reads = CacheReads([*row_keys, *access_keys, tool_actions_cache_key(tool.pk), *session_keys])
    # The entries' own keys come first in each list (principal_rows.cache_keys), last in the other.
    row_version_keys, access_version_keys = row_keys[1:], access_keys[:-1]
    row = PrincipalRow(USER_ROW, reads, tenant.pk, TokenType.USER, user_id)
    versions = reads.get_many([*row_version_keys, *access_version_keys])
    user = row.cached()
    if user is None:
        user = row.fetch(pk=user_id, tenant_id=tenant.pk)
        # Fetching starts the row versions the cache lacked: the next answer is read under those.
        versions.update(cache.get_many(row_version_keys))
    if user is None:
        return None
    active = user.status == Status.ACTIVE and user.deleted_at is None and tenant.status == Status.ACTIVE
    permissions = ()
    if active:
        access = principal_access(Principal(type=TokenType.USER, tenant=tenant, user=user, cache_reads=reads))
        permissions = tuple(sorted(access.permissions & tool_actions(tool, reads)))
    session_active = live_sessions.is_alive(tenant.pk, session_id, reads) if session_id else None
    answer = [*(versions.get(key) for key in [*row_version_keys, *access_version_keys]), active, session_active,
              *permissions]
    return SubjectSnapshot(user_id=user.pk, tenant_id=tenant.pk, tool=tool.key, active=active,
                           session_active=session_active, permissions=permissions,
                           version=hashlib.blake2b(repr(answer).encode(), digest_size=12).hexdigest())
