"""`{% tenant_glance tenant %}`: the tenant at a glance, drawn under the tenant's own admin page.

A tag, not the tenant admin's view: tenancy/ sits below operations/ and may not import it, so
operations/ extends the tenant's page the way Django lets a later layer extend an admin page, by
its template (operations/templates/admin/tenancy/tenant/change_form.html).
"""

import re

from django import template
from django.urls import reverse

from audit.models import ActorType
from core.charts import bar_chart
from operations.tenant_glance import DELIVERY_HEALTH_DAYS, USAGE_DAYS, TenantGlance, tenant_at_a_glance

register = template.Library()

# Colours arrive from tenants: only a hex colour is ever put into a style attribute.
HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")

# The audit's entity types whose entity_id is the primary key of a row with an admin page.
ENTITY_PAGES = {
    "user": "identity_user",
    "group": "identity_group",
    "api_key": "identity_apikey",
    "tenant": "tenancy_tenant",
    "webhook_subscription": "outbox_webhooksubscription",
    "webhook_delivery": "outbox_webhookdelivery",
    "integration_credential": "integrations_integrationcredential",
    "tenant_branding": "branding_tenantbranding",
    "tenant_config": "branding_tenantconfig",
}


def change_url(url_name: str, pk) -> str:
    return reverse(f"admin:{url_name}_change", args=[pk])


def _names(glance: TenantGlance) -> dict[str, str]:
    """What the page already read, by id: the names audit entries are shown with."""
    names = {str(glance.tenant.pk): glance.tenant.name}
    names.update({str(user.pk): user.email for user in glance.users.rows})
    names.update({str(group.pk): group.name for group in glance.groups.rows})
    names.update({str(key.pk): str(key) for key in glance.api_keys.rows})
    names.update({str(subscription.pk): subscription.url for subscription in glance.subscriptions.rows})
    names.update({str(credential.pk): f"{credential.provider} / {credential.name}"
                  for credential in glance.credentials.rows})
    for setting in (glance.branding, glance.config):
        if setting is not None:
            names[str(setting.pk)] = str(setting)
    return names


def _audit_rows(glance: TenantGlance) -> list[dict]:
    names = _names(glance)
    rows = []
    for entry in glance.audit:
        page = ENTITY_PAGES.get(entry.entity_type)
        if entry.actor_user is not None:
            actor, actor_url = entry.actor_user.email, change_url("identity_user", entry.actor_user_id)
        elif entry.actor_type == ActorType.SERVICE and entry.actor_id is not None:
            actor = f"API key {names.get(str(entry.actor_id), entry.actor_id)}"
            actor_url = change_url("identity_apikey", entry.actor_id)
        else:
            actor, actor_url = entry.get_actor_type_display(), None
        rows.append({
            "entry": entry,
            "url": change_url("audit_auditlog", entry.pk),
            "actor": actor,
            "actor_url": actor_url,
            "entity_kind": entry.entity_type.replace("_", " "),
            "entity": names.get(entry.entity_id, entry.entity_id),
            "entity_url": change_url(page, entry.entity_id) if page and entry.entity_id else None,
            # A membership's entry is about its group; the person it added or removed is in the metadata.
            "member": names.get(str(entry.metadata.get("userId"))),
            "member_url": change_url("identity_user", entry.metadata["userId"]) if "userId" in entry.metadata else None,
        })
    return rows


def _settings(values: dict) -> list[tuple[str, str]]:
    """Flags as on/off, anything else as written."""
    return [(name, ("on" if value else "off") if isinstance(value, bool) else str(value))
            for name, value in sorted(values.items())]


@register.inclusion_tag("admin/tenancy/tenant/glance.html")
def tenant_glance(tenant):
    glance = tenant_at_a_glance(tenant)
    branding = glance.branding
    return {
        "glance": glance,
        "tenant": tenant,
        "usage_chart": bar_chart(title=f"Calls by {tenant.slug} per UTC day, last {USAGE_DAYS} days, by tool action",
                                 series=glance.usage, unit="calls"),
        "health_days": DELIVERY_HEALTH_DAYS,
        "audit_rows": _audit_rows(glance),
        "colours": [(label, colour, bool(HEX_COLOUR.fullmatch(colour)))
                    for label, colour in (("primary", branding.primary_color), ("secondary", branding.secondary_color))
                    if colour] if branding else [],
        "flags": _settings(glance.config.flags) if glance.config else [],
        "limits": _settings(glance.config.limits) if glance.config else [],
    }
