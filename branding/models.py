"""A tenant's white-label branding and its configuration (feature flags and limits)."""

from django.db import models

from core.db.naming import unique
from tenancy.models import TenantScopedModel

__all__ = ["TenantBranding", "TenantConfig"]


class TenantConfig(TenantScopedModel):
    flags = models.JSONField(default=dict, blank=True)
    limits = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "tenant_config"
        constraints = [unique("tenant_config", "tenant_id")]

    def __str__(self):
        return f"configuration of {self.tenant}"


class TenantBranding(TenantScopedModel):
    logo_url = models.URLField(max_length=2048, blank=True, default="")
    primary_color = models.CharField(max_length=7, blank=True, default="")
    secondary_color = models.CharField(max_length=7, blank=True, default="")
    # A custom domain belongs to one tenant only, hence unique across tenants.
    domain = models.CharField(max_length=253, null=True, blank=True)

    class Meta:
        db_table = "tenant_branding"
        constraints = [unique("tenant_branding", "tenant_id"), unique("tenant_branding", "domain")]

    def __str__(self):
        return f"branding of {self.tenant}"
