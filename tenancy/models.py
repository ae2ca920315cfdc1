"""Tenants, the packages they hold, their per-tool overrides, and the tenant-scoping mechanism."""

from django.db import models
from django.utils import timezone

from catalog.models import Package, Tool, ToolAction
from core.db.models import BaseModel, StatusModel, VersionedRowsQuerySet, status_check
from core.db.naming import check, constraint_name, unique

__all__ = ["Tenant", "TenantPackage", "TenantScopedModel", "TenantScopedQuerySet", "TenantToolOverride"]


class TenantQuerySet(VersionedRowsQuerySet):
    tenant_column = "pk"  # a tenant's row is the tenant's own


class Tenant(BaseModel, StatusModel):
    slug = models.SlugField(max_length=63)
    name = models.CharField(max_length=200)
    # The one tenant (slug aza8) whose staff run the platform; platform-scope actions live only here.
    is_platform = models.BooleanField(default=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        db_table = "tenant"
        ordering = ["slug"]
        constraints = [
            unique("tenant", "slug"),
            models.UniqueConstraint(
                fields=["is_platform"],
                condition=models.Q(is_platform=True),
                name=constraint_name("uq", "tenant", ["is_platform"]),
            ),
            status_check("tenant"),
        ]

    def __str__(self):
        return self.slug


class TenantScopedQuerySet(models.QuerySet):
    """The one way tenant data is read: every query on a tenant-scoped table names its tenant."""

    def for_tenant(self, tenant):
        return self.filter(tenant=tenant)


class TenantScopedModel(BaseModel):
    """Abstract base for tables that belong to one tenant.

    The tenant column carries no index of its own: each subclass declares composite indexes that
    start with tenant_id, which serve tenant lookups as well.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class TenantPackage(TenantScopedModel, StatusModel):
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="packages_held", db_index=False)
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="tenant_packages", db_index=False)
    assigned_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # When the sweep told products it expired (tenancy.services.announce_package_expiries): once
    # each; assigning the package again clears it.
    expiry_announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "tenant_package"
        constraints = [unique("tenant_package", "tenant_id", "package_id"), status_check("tenant_package")]

    def __str__(self):
        return f"{self.package} held by {self.tenant}"


class TenantToolOverride(TenantScopedModel):
    """Per-tenant flags and limits for a whole tool or one of its actions.

    `flags = {"enabled": false}` takes the tool or action away from the tenant even when a package
    grants it.
    """

    tool = models.ForeignKey(Tool, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False)
    tool_action = models.ForeignKey(
        ToolAction, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    flags = models.JSONField(default=dict, blank=True)
    limits = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "tenant_tool_override"
        constraints = [
            check(
                "tenant_tool_override",
                "target",
                models.Q(tool__isnull=False, tool_action__isnull=True)
                | models.Q(tool__isnull=True, tool_action__isnull=False),
            ),
            unique("tenant_tool_override", "tenant_id", "tool_id", condition=models.Q(tool__isnull=False)),
            unique(
                "tenant_tool_override", "tenant_id", "tool_action_id", condition=models.Q(tool_action__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.tenant_id}:{self.tool_id or self.tool_action_id}"
