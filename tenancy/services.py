"""Writes to tenants."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import SYSTEM, Actor, record
from catalog.models import Package
from core.api.exceptions import Conflict, DuplicateResource, NotFound, Unprocessable
from core.cache.versions import bump_tenant_version
from core.db.changes import ChangeLog, upsert
from core.db.models import Status, change_status
from outbox.services import emit
from tenancy.models import Tenant, TenantPackage
from tenancy.selectors import entitled_tools

__all__ = ["ACCESS_REASONS", "access_changed", "announce_package_expiries", "assign_package", "create_tenant", "ensure_platform_tenant",
           "set_tenant_status", "unassign_package"]

ACCESS_REASONS = frozenset({"grant", "membership", "user_status", "tenant_status", "package", "session", "api_key"})


def access_changed(*, tenant: Tenant, reason: str, user_id=None, session_id=None, api_key_id=None,
                   tools=None) -> None:
    """Emit `access.changed`: a decision about `tenant`'s principals may have changed. Inside the
    change's transaction. Narrowed to a user (`user_id`), a session or an API key, else tenant-wide;
    `tools` are the products concerned: the tenant's entitled tools, before and after the change
    when it changes them (the caller passes both), for the product subscriptions that receive it."""
    if reason not in ACCESS_REASONS:
        raise ValueError(f"Unknown access.changed reason {reason!r}")
    emit("access.changed", tenant=tenant, data={
        "tenantId": str(tenant.pk),
        "userId": _optional_id(user_id),
        "sessionId": _optional_id(session_id),
        "apiKeyId": _optional_id(api_key_id),
        "reason": reason,
        "tools": sorted(set(entitled_tools(tenant) if tools is None else tools)),
    })


def _optional_id(value) -> str | None:
    return None if value is None else str(value)


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
    if previous != status:
        access_changed(tenant=tenant, reason="tenant_status")
    return tenant


@transaction.atomic
def assign_package(*, tenant: Tenant, package: Package, expires_at=None, actor: Actor) -> TenantPackage:
    """Hold `package` (again) until `expires_at`. Base groups are topped up by the caller."""
    if package.status != Status.ACTIVE:
        raise Conflict("This package is not active.")
    if expires_at is not None and expires_at <= timezone.now():
        raise Unprocessable(details={"expiresAt": ["Must be in the future."]})
    before = entitled_tools(tenant)
    held, _created = TenantPackage.objects.update_or_create(
        tenant=tenant,
        package=package,
        defaults={"status": Status.ACTIVE, "suspended_reason": "", "expires_at": expires_at, "assigned_at": timezone.now(),
                  "expiry_announced_at": None},
    )
    bump_tenant_version(tenant.pk)
    record(tenant=tenant, action="tenants.packages.assign", entity_type="package", entity_id=package.key, actor=actor,
           metadata={"expiresAt": expires_at.isoformat() if expires_at else None})
    emit("tenant.package.assigned", tenant=tenant,
         data={"tenantId": str(tenant.pk), "package": package.key, "expiresAt": expires_at.isoformat() if expires_at else None})
    access_changed(tenant=tenant, reason="package", tools=[*before, *entitled_tools(tenant)])
    return held


@transaction.atomic
def unassign_package(*, tenant: Tenant, package: Package, actor: Actor) -> None:
    """The entitlement ends at once; the tenant's grants stay but no longer count."""
    before = entitled_tools(tenant)
    deleted, _ = TenantPackage.objects.for_tenant(tenant).filter(package=package).delete()
    if not deleted:
        raise NotFound("The tenant does not hold this package.")
    bump_tenant_version(tenant.pk)
    record(tenant=tenant, action="tenants.packages.unassign", entity_type="package", entity_id=package.key, actor=actor)
    emit("package.unassigned", tenant=tenant, data={"tenantId": str(tenant.pk), "package": package.key})
    access_changed(tenant=tenant, reason="package", tools=[*before, *entitled_tools(tenant)])


def announce_package_expiries(*, batch_size: int = 100) -> int:
    """The beat's sweep (every minute): each active holding whose `expires_at` has passed is told
    once — `access.changed` (reason package), an audit entry, the tenant's cached permissions
    dropped — and marked, so a rerun or a concurrent sweep skips it. Returns how many were told.

    The entitlement itself ends at `expires_at` whether or not this ran (tenancy.selectors)."""
    announced = 0
    while True:
        with transaction.atomic():
            now = timezone.now()
            due = list(
                TenantPackage.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("tenant", "package")
                .filter(status=Status.ACTIVE, expires_at__lte=now, expiry_announced_at__isnull=True)
                .order_by("expires_at")[:batch_size]
            )
            for held in due:
                _announce_expiry(held, now)
        announced += len(due)
        if len(due) < batch_size:
            return announced


def _announce_expiry(held: TenantPackage, now) -> None:
    held.expiry_announced_at = now
    held.save(update_fields=["expiry_announced_at", "updated_at"])
    bump_tenant_version(held.tenant_id)
    record(tenant=held.tenant, action="tenants.packages.expire", entity_type="package", entity_id=held.package.key,
           actor=SYSTEM, metadata={"expiresAt": held.expires_at.isoformat()})
    just_before = held.expires_at - timedelta(microseconds=1)
    access_changed(tenant=held.tenant, reason="package",
                   tools=[*entitled_tools(held.tenant, at=just_before), *entitled_tools(held.tenant, at=now)])
