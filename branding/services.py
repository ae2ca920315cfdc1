"""Writes to a tenant's branding and configuration."""

from django.db import transaction

from audit.services import Actor, record
from branding.models import TenantBranding, TenantConfig
from branding.selectors import forget_tenant_limits
from core.api.exceptions import DuplicateResource
from core.cache.versions import bump_tenant_version

__all__ = ["replace_branding", "replace_config"]


def _replace(model, *, tenant, values: dict) -> tuple[object, list[str]]:
    instance = model.objects.for_tenant(tenant).first() or model(tenant=tenant)
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed or instance._state.adding:
        instance.save()
    return instance, changed


@transaction.atomic
def replace_branding(*, tenant, logo_url: str, primary_color: str, secondary_color: str, domain: str | None,
                     actor: Actor) -> TenantBranding:
    if domain and TenantBranding.objects.filter(domain=domain).exclude(tenant=tenant).exists():
        raise DuplicateResource("This domain already belongs to another tenant.")
    branding, changed = _replace(
        TenantBranding,
        tenant=tenant,
        values={"logo_url": logo_url, "primary_color": primary_color, "secondary_color": secondary_color,
                "domain": domain or None},
    )
    if changed:
        # /v1/me serves the branding from the principal's cached access entry (identity/authorization.py).
        bump_tenant_version(tenant.pk)
        record(tenant=tenant, action="branding.update", entity_type="tenant_branding", entity_id=branding.pk,
               actor=actor, metadata={"changedFields": sorted(changed)})
    return branding


@transaction.atomic
def replace_config(*, tenant, flags: dict, limits: dict, actor: Actor) -> TenantConfig:
    config, changed = _replace(TenantConfig, tenant=tenant, values={"flags": flags, "limits": limits})
    if changed:
        record(tenant=tenant, action="config.update", entity_type="tenant_config", entity_id=config.pk, actor=actor,
               metadata={"changedFields": sorted(changed)})
        # The rate limiter reads limits through a short cache; drop it once the change is visible.
        transaction.on_commit(lambda: forget_tenant_limits(tenant.pk))
        forget_tenant_limits(tenant.pk)
    return config
