"""Reads of identity: one tenant's people and grants, what a product may know of a user's access to
its tool, and whether the platform has staff yet. (Effective permissions, read on every request
through their cache: identity/authorization.py.)"""

import hashlib
import uuid
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import cache

from catalog.selectors import tool_actions
from core.cache.reads import CacheReads
from core.cache.versions import current_versions
from core.db.models import Status
from identity import live_sessions
from identity.authorization import access_cache_keys, principal_access
from identity.models import Group, GroupPermission, User
from identity.principal import Principal
from identity.principal_rows import USER_ROW, PrincipalRow, cache_keys
from identity.tokens import TokenType

__all__ = ["SubjectSnapshot", "group_grant", "group_grants", "group_members", "live_user", "platform_staff_exists",
           "subject_cache_keys", "subject_snapshot", "user_groups"]


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


def _digest(*parts) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def subject_cache_keys(tenant_id, tool_id, user_id, session_id=None) -> list[str]:
    """What `subject_snapshot` reads: its entry, the versions the entry is kept under — the user's
    row and the tenant's (statuses), the catalog's and the tenant's permissions (grants, memberships,
    packages, the tool's actions) — and, when asked, the session's state. A product's route names
    its subject (`product_subject`) so that authentication reads these in the request's one round
    trip (identity/authentication.py)."""
    session_keys = [live_sessions.cache_key(tenant_id, session_id)] if session_id else []
    return [f"subject:{tenant_id}:{tool_id}:{user_id}", *cache_keys(tenant_id, TokenType.USER, user_id)[1:],
            *access_cache_keys(tenant_id, TokenType.USER, user_id)[:-1], *session_keys]


def subject_snapshot(*, tenant, tool, user_id, session_id=None, reads=None) -> SubjectSnapshot | None:
    """The user's effective permissions restricted to `tool`'s actions, whether the user (and the
    tenant) is active, and — when `session_id` is given — whether that session is alive; None when
    the tenant has no such user.

    The answer (but the session's state) is cached whole, under the versions of everything it is
    built from: warm, one entry decoded, no query, and — with `reads`, the product's request reads
    made at authentication — no round trip of its own. `version` is a digest of the answer and of
    those versions, so it changes whenever the answer does, and whenever something that may change
    it was written.
    """
    # Canonical text once: every key below names these ids.
    tenant_id, user_id = str(tenant.pk), str(uuid.UUID(str(user_id)))
    entry_key, *version_keys = keys = subject_cache_keys(tenant_id, str(tool.pk), user_id)
    reads = reads or CacheReads(subject_cache_keys(tenant_id, str(tool.pk), user_id, session_id))
    found = reads.get_many(keys)
    # Read before the answer is built, so an answer built from rows a writer just changed is never
    # kept under the versions that writer left (identity/principal_rows.py).
    versions = tuple(found.get(key) for key in version_keys)
    entry = found.get(entry_key)
    if entry is not None and None not in versions and entry[0] == versions:
        snapshot = entry[1]
    else:
        # A version the cache lacks (lost, or nothing written since it started) is started first, so
        # the answer is kept under it: trusted missing, it could match an answer of before the loss.
        versions = current_versions(version_keys, versions)
        snapshot = _built_snapshot(tenant, tool, user_id, reads, versions)
        if snapshot is None:
            return None
        cache.set(entry_key, (versions, snapshot), timeout=settings.PERMISSION_CACHE_SECONDS)
    if not session_id:
        return snapshot
    session_active = live_sessions.is_alive(tenant_id, session_id, reads)
    return replace(snapshot, session_active=session_active, version=_digest(snapshot.version, session_active))


def _built_snapshot(tenant, tool, user_id, reads: CacheReads, versions: tuple) -> SubjectSnapshot | None:
    """The answer from the caches a request of the user itself reads (its row, its permission entry)
    and the tool's action keys; the database for what they lack. `versions`: those it is kept under
    (`subject_cache_keys`' version keys), which its `version` digests too."""
    row = PrincipalRow(USER_ROW, reads, tenant.pk, TokenType.USER, user_id)
    user = row.cached() or row.fetch(pk=user_id, tenant_id=tenant.pk)
    if user is None:
        return None
    active = user.status == Status.ACTIVE and user.deleted_at is None and tenant.status == Status.ACTIVE
    permissions = ()
    if active:
        access = principal_access(Principal(type=TokenType.USER, tenant=tenant, user=user, cache_reads=reads))
        permissions = tuple(sorted(access.permissions & tool_actions(tool, reads)))
    return SubjectSnapshot(user_id=user.pk, tenant_id=tenant.pk, tool=tool.key, active=active, session_active=None,
                           permissions=permissions, version=_digest(*versions, active, *permissions))
