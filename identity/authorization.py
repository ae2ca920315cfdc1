"""Effective permissions: what a principal may do, as a set of tool_action keys.

entitled(tenant) ∩ (union of the user's active groups' grants | the API key's scopes or profile).
Computed with one query and cached per principal — with the groups, packages and branding
`/v1/me` shows, which change under the same events — under two version counters — the tenant's
(bumped by every service that changes grants, memberships, group names, packages, overrides,
statuses or branding) and
the catalog's (bumped when actions or packages change) — so a change is seen on the next request;
a counter the cache lacks is started again, never read as a value.
Entries also expire after PERMISSION_CACHE_SECONDS, which bounds how long a package that simply
reached its expiry date keeps counting.

A product principal (a product credential) is no user and holds no grant in any tenant: its access
is empty, whatever tenant it acts in. What it may call is decided by the route's `product_access`
(identity/permissions.py), and what it may ask about is its own tool's actions.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from branding.models import TenantBranding
from core.cache.versions import CATALOG_VERSION_KEY, current_versions, tenant_version_key
from core.db.models import Status
from identity.api_keys import profile_access_levels
from identity.models import GroupPermission
from tenancy.models import TenantPackage
from tenancy.selectors import entitled_actions

__all__ = ["Access", "access_cache_keys", "compute_access", "compute_permissions", "effective_permissions",
           "principal_access"]


@dataclass(frozen=True)
class Access:
    permissions: frozenset[str]
    groups: tuple[dict, ...]  # the user's active groups: {"id", "name"}
    packages: tuple[dict, ...]  # the tenant's packages in force: {"key", "name", "expires_at"}
    branding: dict | None  # the tenant's branding, as /v1/me shows it


NO_ACCESS = Access(permissions=frozenset(), groups=(), packages=(), branding=None)


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


def compute_access(principal) -> Access:
    groups = ()
    if principal.user is not None:
        groups = tuple(
            {"id": membership.group_id, "name": membership.group.name}
            for membership in principal.user.memberships.select_related("group").filter(
                group__status=Status.ACTIVE, group__deleted_at__isnull=True
            ).order_by("group__name")
        )
    packages = tuple(
        {"key": held.package.key, "name": held.package.name, "expires_at": held.expires_at}
        for held in TenantPackage.objects.for_tenant(principal.tenant)
        .filter(status=Status.ACTIVE, package__status=Status.ACTIVE)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("package")
        .order_by("package__key")
    )
    branding = (
        TenantBranding.objects.for_tenant(principal.tenant)
        .values("logo_url", "primary_color", "secondary_color", "domain").first()
    )
    return Access(permissions=compute_permissions(principal), groups=groups, packages=packages, branding=branding)


def access_cache_keys(tenant_id, principal_type: str, principal_id) -> list[str]:
    """The catalog version, the tenant version and the principal's entry, in that order."""
    return [CATALOG_VERSION_KEY, tenant_version_key(tenant_id), f"access:{tenant_id}:{principal_type}:{principal_id}"]


def principal_access(principal) -> Access:
    if principal.product_credential is not None:
        return NO_ACCESS
    cached = getattr(principal, "_access", None)
    if cached is not None:
        return cached
    catalog_key, tenant_key, key = access_cache_keys(principal.tenant.pk, principal.type, principal.id)
    # The entry carries the versions it was computed under, so the current versions and the entry
    # are read together (at authentication, usually: principal.cache_reads) and compared here.
    found = (principal.cache_reads or cache).get_many([catalog_key, tenant_key, key])
    versions = (found.get(catalog_key), found.get(tenant_key))
    entry = found.get(key)
    if entry is not None and None not in versions and entry[0] == versions:
        access = entry[1]
    else:
        # Never trusted missing: an entry kept under a counter the cache then lost could match again.
        versions = current_versions((catalog_key, tenant_key), versions)
        access = compute_access(principal)
        cache.set(key, (versions, access), timeout=settings.PERMISSION_CACHE_SECONDS)
    principal._access = access
    return access


def effective_permissions(principal) -> frozenset[str]:
    return principal_access(principal).permissions
