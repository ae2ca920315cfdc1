"""Writes to tenants."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import Actor, record
from catalog.models import Package
from core.api.exceptions import Conflict, DuplicateResource, NotFound, Unprocessable
from core.cache.versions import bump_tenant_version
from core.db.changes import ChangeLog, upsert
from core.db.models import Status, change_status
from outbox.services import emit
from tenancy.models import Tenant, TenantPackage

__all__ = ["assign_package", "create_tenant", "ensure_platform_tenant", "set_tenant_status", "unassign_package"]


def ensure_platform_tenant(changes: ChangeLog | None = None) -> Tenant:
    """The platform tenant (aza8), created on first use."""
    return upsert(
        Tenant,
        lookup={"slug": settings.PLATFORM_TENANT_SLUG},
        values={"is_platform": True},
        on_create={"name": "Aza8"},
        changes=changes if changes is not None else ChangeLog(),
        label=f"platform tenant {settings.PLATFORM_TENANT_SLUG}",
    )


@transaction.atomic
def create_tenant(*, slug: str, name: str, actor: Actor) -> Tenant:
    if Tenant.objects.filter(slug=slug).exists():
        raise DuplicateResource("A tenant with this slug already exists.")
    tenant = Tenant.objects.create(slug=slug, name=name)
    record(tenant=tenant, action="tenants.create", entity_type="tenant", entity_id=tenant.pk, actor=actor)
    emit("tenant.created", tenant=tenant, data={"tenantId": str(tenant.pk), "slug": tenant.slug, "name": tenant.name})
    return tenant


@transaction.atomic
def set_tenant_status(*, tenant: Tenant, status: str, reason: str = "", actor: Actor) -> Tenant:
    """Suspension takes effect on the tenant's very next request: saving the row bumps the version
    that every cached copy of it is checked against (identity/principal_rows.py)."""
    if tenant.is_platform and status != Status.ACTIVE:
        raise Conflict("The platform tenant cannot be suspended.")
    previous = change_status(tenant, status, reason)
    bump_tenant_version(tenant.pk)
    record(tenant=tenant, action="tenants.status.update", entity_type="tenant", entity_id=tenant.pk, actor=actor,
           metadata={"from": previous, "to": status})
    return tenant


@transaction.atomic
def assign_package(*, tenant: Tenant, package: Package, expires_at=None, actor: Actor) -> TenantPackage:
    """Hold `package` (again) until `expires_at`. Base groups are topped up by the caller."""
    if package.status != Status.ACTIVE:
        raise Conflict("This package is not active.")
    if expires_at is not None and expires_at <= timezone.now():
        raise Unprocessable(details={"expiresAt": ["Must be in the future."]})
    held, _created = TenantPackage.objects.update_or_create(
        tenant=tenant,
        package=package,
        defaults={"status": Status.ACTIVE, "suspended_reason": "", "expires_at": expires_at, "assigned_at": timezone.now()},
    )
    bump_tenant_version(tenant.pk)
    record(tenant=tenant, action="tenants.packages.assign", entity_type="package", entity_id=package.key, actor=actor,
           metadata={"expiresAt": expires_at.isoformat() if expires_at else None})
    emit("tenant.package.assigned", tenant=tenant,
         data={"tenantId": str(tenant.pk), "package": package.key, "expiresAt": expires_at.isoformat() if expires_at else None})
    return held


@transaction.atomic
def unassign_package(*, tenant: Tenant, package: Package, actor: Actor) -> None:
    """The entitlement ends at once; the tenant's grants stay but no longer count."""
    deleted, _ = TenantPackage.objects.for_tenant(tenant).filter(package=package).delete()
    if not deleted:
        raise NotFound("The tenant does not hold this package.")
    bump_tenant_version(tenant.pk)
    record(tenant=tenant, action="tenants.packages.unassign", entity_type="package", entity_id=package.key, actor=actor)
    emit("package.unassigned", tenant=tenant, data={"tenantId": str(tenant.pk), "package": package.key})
