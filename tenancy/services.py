"""Writes to tenants."""

from django.conf import settings

from config.changes import ChangeLog, upsert
from tenancy.models import Tenant

__all__ = ["ensure_platform_tenant"]


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
