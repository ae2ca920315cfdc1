"""Reads of a tenant's configuration that other apps depend on."""

from django.core.cache import cache

from branding.models import TenantConfig

__all__ = ["limits_cache_key", "tenant_limits"]

LIMITS_CACHE_SECONDS = 60


def limits_cache_key(tenant_id) -> str:
    return f"tenant-limits:{tenant_id}"


def tenant_limits(tenant_id, *, cache_reads=None) -> dict:
    """The tenant's `limits` object (empty when it has no configuration), cached briefly.
    `cache_reads` may hold the entry already (core/cache/reads.py)."""
    limits = (cache_reads or cache).get(limits_cache_key(tenant_id))
    if limits is None:
        limits = TenantConfig.objects.filter(tenant_id=tenant_id).values_list("limits", flat=True).first() or {}
        cache.set(limits_cache_key(tenant_id), limits, timeout=LIMITS_CACHE_SECONDS)
    return limits


def forget_tenant_limits(tenant_id) -> None:
    cache.delete(limits_cache_key(tenant_id))
