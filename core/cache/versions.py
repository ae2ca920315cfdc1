"""Version counters that invalidate what is cached between requests: permission sets (see
identity/authorization.py) and principals' rows (identity/principal_rows.py).

Kept here, below every domain app, because the catalog (actions and packages), tenancy (packages
held, overrides, statuses, the tenant's own row) and identity (grants, memberships, users and API
keys) all change what a principal is and may do.
"""

import secrets

from django.core.cache import cache
from django.db import transaction

__all__ = ["CATALOG_VERSION_KEY", "ROW_VERSION_SECONDS", "bump_catalog_version", "bump_principal_row", "bump_tenant_row",
           "bump_tenant_version", "current_versions", "new_version", "principal_row_version_key", "tenant_row_version_key",
           "tenant_version_key"]

CATALOG_VERSION_KEY = "permver:catalog"
# A row version nobody bumps is forgotten after a day: a missing version is never trusted, and the
# next one is new (new_version), so no entry cached under the old one can match it.
ROW_VERSION_SECONDS = 24 * 3600


def new_version() -> int:
    """A version no entry was cached under. Readers only compare versions for equality, so a bump
    sets a fresh random value — one write, where an increment was a read and a write — and a counter
    the cache lost (evicted, expired, flushed) never comes back to a value it held before, as an
    increment restarting from 1 could."""
    return secrets.randbits(62)


def current_versions(keys, versions) -> tuple:
    """`versions` as read under `keys`, each one the cache lacked (lost, or never bumped since the
    cache started) started again: a new one, or the one a concurrent reader just started. A reader
    starts them before it reads what it will keep under them, as a bump would have. A version may
    still be None when the cache is out of reach."""
    return tuple(_start_version(key) if version is None else version for key, version in zip(keys, versions))


def _start_version(key: str):
    version = new_version()
    timeout = ROW_VERSION_SECONDS if key.startswith("rowver:") else None
    return version if cache.add(key, version, timeout=timeout) else cache.get(key)


def tenant_version_key(tenant_id) -> str:
    return f"permver:tenant:{tenant_id}"


def tenant_row_version_key(tenant_id) -> str:
    return f"rowver:tenant:{tenant_id}"


def principal_row_version_key(principal_type: str, principal_id) -> str:
    """The version of a principal's own row: a user's, or an API key's for `service`."""
    return f"rowver:{principal_type}:{principal_id}"


def _bump(key: str, timeout: int | None = None) -> None:
    def bump():
        cache.set(key, new_version(), timeout=timeout)

    # Now, so the writer's own next read sees it, and again after commit, so a request that read
    # the old rows while the transaction was open cannot leave them cached under the new version.
    bump()
    transaction.on_commit(bump)


def bump_tenant_version(tenant_id) -> None:
    _bump(tenant_version_key(tenant_id))


def bump_catalog_version() -> None:
    _bump(CATALOG_VERSION_KEY)


def bump_tenant_row(tenant_id) -> None:
    """The tenant's row changed, or rows of its principals that a bulk update may have changed."""
    _bump(tenant_row_version_key(tenant_id), ROW_VERSION_SECONDS)


def bump_principal_row(principal_type: str, principal_id) -> None:
    _bump(principal_row_version_key(principal_type, principal_id), ROW_VERSION_SECONDS)
