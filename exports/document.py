"""The tenant export document: everything the tenant holds in the hub, as one JSON object.

Built from explicit allow-lists of columns, so a secret column added to a model later stays out
until someone lists it here on purpose. Never included: password hashes, API-key digests, token
hashes, webhook and integration secrets, the audit chain's hashes.
"""

import uuid

from django.utils import timezone

from audit.models import AuditLog
from branding.models import TenantBranding, TenantConfig
from identity.models import ApiKey, Group, GroupPermission, User, UserGroup
from integrations.models import IntegrationCredential
from outbox.models import WebhookSubscription
from tenancy.models import TenantPackage
from usage.models import UsageMetric

__all__ = ["FORMAT", "SECTIONS", "build_document"]

FORMAT = "aza8-hub-tenant-export"
VERSION = 1


def _rows(queryset, **fields):
    """`fields` maps each output key (camelCase) to a column path; rows stream from the database."""
    columns = list(fields.values())
    for row in queryset.values_list(*columns).iterator(chunk_size=2000):
        yield {key: _plain(value) for key, value in zip(fields, row)}


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _one(model, tenant, **fields):
    return next(_rows(model.objects.for_tenant(tenant), **fields), None)


SECTIONS = ("tenant", "users", "groups", "memberships", "permissions", "apiKeys", "auditLog", "usage", "branding",
            "config", "integrationCredentials", "webhookSubscriptions")


def build_document(tenant) -> dict:
    scoped = {model: model.objects.for_tenant(tenant) for model in (
        User, Group, UserGroup, GroupPermission, ApiKey, AuditLog, UsageMetric, IntegrationCredential,
        WebhookSubscription, TenantPackage)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "generatedAt": timezone.now().isoformat(),
        "tenant": {
            "id": str(tenant.pk), "slug": tenant.slug, "name": tenant.name, "status": tenant.status,
            "createdAt": tenant.created_at.isoformat(),
            "packages": list(_rows(scoped[TenantPackage].order_by("assigned_at"), package="package__key",
                                   status="status", assignedAt="assigned_at", expiresAt="expires_at")),
        },
        "users": list(_rows(scoped[User].order_by("created_at", "id"), id="id", email="email", name="name",
                            status="status", suspendedReason="suspended_reason", authProvider="auth_provider",
                            isStaff="is_staff", lastLogin="last_login", deletedAt="deleted_at",
                            createdAt="created_at", updatedAt="updated_at")),
        "groups": list(_rows(scoped[Group].order_by("created_at", "id"), id="id", name="name",
                             description="description", status="status", suspendedReason="suspended_reason",
                             deletedAt="deleted_at", createdAt="created_at", updatedAt="updated_at")),
        "memberships": list(_rows(scoped[UserGroup].order_by("created_at", "id"), id="id", userId="user_id",
                                  groupId="group_id", createdAt="created_at")),
        "permissions": list(_rows(scoped[GroupPermission].order_by("created_at", "id"), id="id",
                                  groupId="group_id", toolAction="tool_action__key", constraints="constraints",
                                  createdAt="created_at")),
        "apiKeys": list(_rows(scoped[ApiKey].order_by("created_at", "id"), id="id", name="name", prefix="prefix",
                              profile="profile", scopes="scopes", allowedIps="allowed_networks", status="status",
                              suspendedReason="suspended_reason", expiresAt="expires_at",
                              lastUsedAt="last_used_at", createdBy="created_by_id", createdAt="created_at")),
        "auditLog": list(_rows(scoped[AuditLog].order_by("sequence"), id="id", sequence="sequence",
                               createdAt="created_at", actorType="actor_type", actorId="actor_id",
                               actorUserId="actor_user_id", action="action", entityType="entity_type",
                               entityId="entity_id", metadata="metadata", ip="ip", userAgent="user_agent")),
        "usage": list(_rows(scoped[UsageMetric].order_by("period_start", "id"), toolAction="tool_action__key",
                            periodStart="period_start", periodEnd="period_end", count="count")),
        "branding": _one(TenantBranding, tenant, logoUrl="logo_url", primaryColor="primary_color",
                         secondaryColor="secondary_color", domain="domain", updatedAt="updated_at"),
        "config": _one(TenantConfig, tenant, flags="flags", limits="limits", updatedAt="updated_at"),
        "integrationCredentials": list(_rows(scoped[IntegrationCredential].order_by("created_at", "id"), id="id",
                                             provider="provider", name="name", keyVersion="key_version",
                                             expiresAt="expires_at", createdAt="created_at")),
        "webhookSubscriptions": list(_rows(scoped[WebhookSubscription].order_by("created_at", "id"), id="id",
                                           url="url", description="description", eventTypes="event_types",
                                           status="status", createdAt="created_at")),
    }
