"""Effective permissions: what a principal may do, as a set of tool_action keys.

entitled(tenant) ∩ (union of the user's active groups' grants | the API key's scopes or profile).
Computed with one query and cached per principal under two version counters — the tenant's
(bumped by every service that changes grants, memberships, packages, overrides or statuses) and
the catalog's (bumped when actions or packages change) — so a change is seen on the next request.
Entries also expire after PERMISSION_CACHE_SECONDS, which bounds how long a package that simply
reached its expiry date keeps counting.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from catalog.models import ToolAction
from config.models import Status
from identity.api_keys import profile_access_levels
from identity.models import GroupPermission
from tenancy.selectors import entitled_actions

__all__ = ["bump_catalog_version", "bump_tenant_version", "compute_permissions", "effective_permissions"]

_CATALOG_VERSION = "permver:catalog"


def _tenant_version_key(tenant_id) -> str:
    return f"permver:tenant:{tenant_id}"


def _bump(key: str) -> None:
    def bump():
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=None)

    # Now, so the writer's own next read sees it, and again after commit, so a request that read
    # the old rows while the transaction was open cannot leave them cached under the new version.
    bump()
    transaction.on_commit(bump)


def bump_tenant_version(tenant_id) -> None:
    _bump(_tenant_version_key(tenant_id))


def bump_catalog_version() -> None:
    _bump(_CATALOG_VERSION)


def compute_permissions(principal) -> frozenset[str]:
    entitled = entitled_actions(principal.tenant)
    if principal.user is not None:
        granted = GroupPermission.objects.for_tenant(principal.tenant).filter(
            group__status=Status.ACTIVE,
            group__deleted_at__isnull=True,
            group__memberships__user=principal.user,
        )
        actions = entitled.filter(pk__in=granted.values("tool_action_id"))
    else:
        api_key = principal.api_key
        if api_key.scopes:
            actions = entitled.filter(key__in=api_key.scopes)
        else:
            actions = entitled.filter(access_level__in=profile_access_levels(api_key.profile))
    return frozenset(actions.values_list("key", flat=True))


def effective_permissions(principal) -> frozenset[str]:
    cached = getattr(principal, "_permissions", None)
    if cached is not None:
        return cached
    tenant_key = _tenant_version_key(principal.tenant.pk)
    versions = cache.get_many([_CATALOG_VERSION, tenant_key])
    key = (
        f"perms:{principal.tenant.pk}:{principal.type}:{principal.id}:"
        f"{versions.get(_CATALOG_VERSION, 0)}:{versions.get(tenant_key, 0)}"
    )
    permissions = cache.get(key)
    if permissions is None:
        permissions = compute_permissions(principal)
        cache.set(key, permissions, timeout=settings.PERMISSION_CACHE_SECONDS)
    principal._permissions = permissions
    return permissions


def known_action_keys(keys) -> set[str]:
    return set(ToolAction.objects.filter(key__in=list(keys)).values_list("key", flat=True))
