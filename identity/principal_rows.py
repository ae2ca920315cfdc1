"""The principal's row — the user or API key a credential names, with its tenant; a product
credential with its tool — and the tenant a product names, kept in the cache between requests, so
that an authenticated request in the steady state reads no database row.

Every authenticated request needs the row for its status checks (suspended, deleted, revoked,
expired) and for what it shows; read from PostgreSQL it was the largest part of a cheap request
(docs/benchmarks.md). The entry is read in the request's one cache round trip
(core/cache/reads.py) together with two version counters, the tenant row's and the principal
row's own (core/cache/versions.py), and used only while both still equal the versions it was
stored under (a product credential belongs to no tenant: its own version only; the tenant a product
names: the tenant row's only). Every write of such a row bumps one of them:

- a save or delete of a user, an API key, a product credential or a tenant (cascades included)
  bumps that row's version (`post_save` / `post_delete` below): a credential's rotation and
  revocation, a tenant's suspension are seen by the next request;
- an `update()` of many rows at once bumps the version of each tenant the rows belong to
  (`VersionedRowsQuerySet` in core/db/models.py), which every principal of the tenant is checked
  against.

Rows written by other means (raw SQL, `bulk_create` with `update_conflicts`, an API key's
`created_by` set to NULL when its creator is deleted — authentication reads no such column; a
product credential's tool, of which only the never-changing key is read) are seen once the entries expire, after PRINCIPAL_CACHE_SECONDS. A bump happens at the write and again
after commit, and a row read on a miss is stored under versions read *before* it, so a request that
read the old row while the writer's transaction was open cannot leave it cached under the new
versions. A version the cache lost is never trusted: the reader starts it again at a random value
before it reads the row.

The password hash is never selected for the principal (it loads on first access, as a deferred
field), so it never reaches the cache.
"""

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from core.cache.versions import (
    bump_principal_row,
    bump_tenant_row,
    current_versions,
    principal_row_version_key,
    tenant_row_version_key,
)
from core.db.lookup import RowLookup
from identity.models import ApiKey, ProductCredential, User
from identity.principal import PRODUCT
from identity.tokens import TokenType
from tenancy.models import Tenant

__all__ = ["PRODUCT_CREDENTIAL_ROW", "USER_ROW", "PrincipalRow", "TenantRow", "cache_keys", "tenant_row_keys"]

_PRINCIPAL_TYPES = {User: TokenType.USER, ApiKey: TokenType.SERVICE, ProductCredential: PRODUCT}
# A user's row by id in its tenant, as authentication and a product's questions about the user read
# it (one cache entry for both); the password hash is not needed and must not travel to the cache.
USER_ROW = RowLookup(User, join="tenant", filters=("pk", "tenant_id"), defer=("password",))
# A product credential by the prefix its text carries, with its tool.
PRODUCT_CREDENTIAL_ROW = RowLookup(ProductCredential, join="tool", filters=("prefix",))
_TENANT_ROW = RowLookup(Tenant, join=None, filters=("pk",))


def _entry_key(tenant_id, principal_type: str, principal_id) -> str:
    return f"principal:{tenant_id}:{principal_type}:{principal_id}"


def cache_keys(tenant_id, principal_type: str, principal_id) -> list[str]:
    """What to read up front for `PrincipalRow`: the entry and the versions it depends on (the
    tenant's row and its own; its own only for a product credential, `tenant_id` None)."""
    tenant_versions = [] if tenant_id is None else [tenant_row_version_key(tenant_id)]
    return [
        _entry_key(tenant_id, principal_type, principal_id),
        *tenant_versions,
        principal_row_version_key(principal_type, principal_id),
    ]


def tenant_row_keys(tenant_id) -> list[str]:
    """What to read up front for `TenantRow`: the entry and the tenant row's version."""
    return [f"tenant-row:{tenant_id}", tenant_row_version_key(tenant_id)]


class _CachedRow:
    """One row's cache entry and the versions it depends on, as the request's cache reads found them."""

    def __init__(self, lookup: RowLookup, reads, keys: list[str], row_id):
        self._lookup = lookup
        self._row_id = str(row_id)
        self._entry_key, *self._version_keys = keys
        found = reads.get_many(keys)
        self._versions = tuple(found.get(key) for key in self._version_keys)
        self._entry = found.get(self._entry_key)

    def cached(self):
        """The row's instance from a current entry, or None."""
        if (not settings.PRINCIPAL_CACHE_SECONDS or self._entry is None or None in self._versions
                or self._entry[0] != self._versions):
            return None
        instance = self._lookup.restore(self._entry[1])
        return instance if self._names(instance) else None

    def fetch(self, **filters):
        """The row read from the database by `filters`, and stored for the next requests when it is
        the one this entry is for."""
        versions = self._current_versions() if settings.PRINCIPAL_CACHE_SECONDS else None
        instance = self._lookup.get(**filters)
        if versions is not None and instance is not None and self._names(instance):
            cache.set(self._entry_key, (versions, self._lookup.snapshot(instance)),
                      timeout=settings.PRINCIPAL_CACHE_SECONDS)
        return instance

    def _names(self, instance) -> bool:
        return str(instance.pk) == self._row_id

    def _current_versions(self) -> tuple | None:
        """The versions as read before the row is: those read up front, and any the cache lacked
        started again (or as another request just started it); None if one is still missing."""
        versions = current_versions(self._version_keys, self._versions)
        return None if None in versions else versions


class PrincipalRow(_CachedRow):
    """One principal's cached row (`tenant_id` None: a product credential's)."""

    def __init__(self, lookup: RowLookup, reads, tenant_id, principal_type: str, principal_id):
        super().__init__(lookup, reads, cache_keys(tenant_id, principal_type, principal_id), principal_id)
        self._tenant_id = None if tenant_id is None else str(tenant_id)

    def _names(self, instance) -> bool:
        return super()._names(instance) and (self._tenant_id is None or str(instance.tenant_id) == self._tenant_id)


class TenantRow(_CachedRow):
    """The cached row of the tenant a product's request names."""

    def __init__(self, reads, tenant_id):
        super().__init__(_TENANT_ROW, reads, tenant_row_keys(tenant_id), tenant_id)

    def get(self) -> Tenant | None:
        return self.cached() or self.fetch(pk=self._row_id)


def _row_written(sender, instance, **kwargs):
    if kwargs.get("created"):
        return  # no entry can exist for a row that did not
    if sender is Tenant:
        bump_tenant_row(instance.pk)
    else:
        bump_principal_row(_PRINCIPAL_TYPES[sender], instance.pk)


def connect_signals() -> None:
    for model in (User, ApiKey, ProductCredential, Tenant):
        post_save.connect(_row_written, sender=model, dispatch_uid=f"principal-row-saved-{model._meta.label}")
        post_delete.connect(_row_written, sender=model, dispatch_uid=f"principal-row-deleted-{model._meta.label}")
