"""Version counters that invalidate cached permission sets (see identity/authorization.py).

Kept here, below every domain app, because the catalog (actions and packages), tenancy (packages
held, overrides, statuses) and identity (grants, memberships) all change what a principal may do.
"""

from django.core.cache import cache
from django.db import transaction

__all__ = ["CATALOG_VERSION_KEY", "bump_catalog_version", "bump_tenant_version", "tenant_version_key"]

CATALOG_VERSION_KEY = "permver:catalog"


def tenant_version_key(tenant_id) -> str:
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
    _bump(tenant_version_key(tenant_id))


def bump_catalog_version() -> None:
    _bump(CATALOG_VERSION_KEY)
