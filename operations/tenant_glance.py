"""A tenant at a glance: everything the back office shows on a tenant's page, read across the apps.

One query per section, whatever the tenant's size: lists are bounded (their total counted by a
window function in the same query), and what each row needs from other tables (a user's groups, a
group's members and grants, a subscription's recent deliveries) comes in as subqueries of that row.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, IntegerField, OuterRef, Subquery, Window
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

from audit.models import AuditLog
from branding.models import TenantBranding, TenantConfig
from core.charts import Series
from identity.models import ApiKey, Group, GroupPermission, User, UserGroup
from integrations.models import IntegrationCredential
from operations.selectors import usage_series, utc_days
from outbox.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tenancy.models import Tenant, TenantPackage

__all__ = ["LIST_LIMIT", "MEMBERS_SHOWN", "Bounded", "TenantGlance", "tenant_at_a_glance"]

LIST_LIMIT = 50
MEMBERS_SHOWN = 10
AUDIT_ENTRIES = 20
USAGE_DAYS = 30
USAGE_ACTIONS = 8
DELIVERY_HEALTH_DAYS = 7
OTHER_ACTIONS = "other"


@dataclass(frozen=True)
class Bounded:
    """The first rows of a list and how many there are in all."""

    rows: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


@dataclass(frozen=True)
class TenantGlance:
    tenant: Tenant
    packages: list[TenantPackage]
    users: Bounded  # each with `group_list`: [{"id", "name"}]
    groups: Bounded  # each with `member_list` (the first MEMBERS_SHOWN), `member_count`, `permission_list`
    api_keys: Bounded
    subscriptions: Bounded  # each with `deliveries_finished`, `deliveries_succeeded` (last DELIVERY_HEALTH_DAYS)
    credentials: Bounded
    branding: TenantBranding | None
    config: TenantConfig | None
    usage_days: list[date]
    usage: list[Series]  # the top USAGE_ACTIONS actions by calls, then the rest as "other"
    audit: list[AuditLog]


def _bounded(queryset, limit: int = LIST_LIMIT) -> Bounded:
    rows = list(queryset.annotate(listed_total=Window(Count("pk")))[:limit])
    return Bounded(rows=rows, total=rows[0].listed_total if rows else 0)


def _json_list(queryset, order_by: str, **fields):
    return ArraySubquery(queryset.order_by(order_by).values(json=JSONObject(**fields)))


def _count(queryset):
    counted = queryset.order_by().values("tenant_id").annotate(total=Count("pk")).values("total")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _users(tenant) -> Bounded:
    memberships = UserGroup.objects.filter(tenant_id=tenant.pk, user=OuterRef("pk"))
    return _bounded(
        User.objects.for_tenant(tenant).filter(deleted_at__isnull=True)
        .annotate(group_list=_json_list(memberships, "group__name", id="group_id", name="group__name"))
        .order_by("email")
    )


def _groups(tenant) -> Bounded:
    memberships = UserGroup.objects.filter(tenant_id=tenant.pk, group=OuterRef("pk"), user__deleted_at__isnull=True)
    grants = GroupPermission.objects.filter(tenant_id=tenant.pk, group=OuterRef("pk"))
    return _bounded(
        Group.objects.for_tenant(tenant).filter(deleted_at__isnull=True)
        .annotate(
            member_list=ArraySubquery(memberships.order_by("user__email")
                                      .values(json=JSONObject(id="user_id", email="user__email"))[:MEMBERS_SHOWN]),
            member_count=_count(memberships),
            permission_list=_json_list(grants, "tool_action__key", id="tool_action_id", key="tool_action__key"),
        )
        .order_by("name")
    )


def _subscriptions(tenant, now) -> Bounded:
    recent = WebhookDelivery.objects.filter(tenant_id=tenant.pk, subscription=OuterRef("pk"),
                                            created_at__gte=now - timedelta(days=DELIVERY_HEALTH_DAYS))
    finished = recent.filter(status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.DEAD])
    return _bounded(
        WebhookSubscription.objects.for_tenant(tenant)
        .only("url", "description", "status", "event_types", "failing_since", "created_at")
        .annotate(deliveries_finished=_count(finished),
                  deliveries_succeeded=_count(recent.filter(status=DeliveryStatus.SUCCEEDED)))
    )


def tenant_at_a_glance(tenant: Tenant, now: datetime | None = None) -> TenantGlance:
    """Ten queries, whatever the tenant holds."""
    now = now or timezone.now()
    usage_days = utc_days(USAGE_DAYS, now)
    return TenantGlance(
        tenant=tenant,
        packages=list(TenantPackage.objects.for_tenant(tenant).select_related("package").order_by("package__name")),
        users=_users(tenant),
        groups=_groups(tenant),
        api_keys=_bounded(
            ApiKey.objects.for_tenant(tenant)
            .only("name", "prefix", "profile", "status", "expires_at", "last_used_at", "created_at")
            .order_by("name")
        ),
        subscriptions=_subscriptions(tenant, now),
        credentials=_bounded(
            IntegrationCredential.objects.for_tenant(tenant)
            .only("provider", "name", "key_version", "expires_at", "created_at", "updated_at")
            .order_by("provider", "name")
        ),
        branding=TenantBranding.objects.for_tenant(tenant).select_related("tenant").first(),
        config=TenantConfig.objects.for_tenant(tenant).select_related("tenant").first(),
        usage_days=usage_days,
        usage=usage_series(usage_days, by="tool_action__key", shown=USAGE_ACTIONS, other=OTHER_ACTIONS,
                           tenant_id=tenant.pk),
        audit=list(AuditLog.objects.for_tenant(tenant).select_related("actor_user")
                   .order_by("-created_at", "-id")[:AUDIT_ENTRIES]),
    )
