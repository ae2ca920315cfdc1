"""A tenant at a glance: everything the back office shows on a tenant's page, read across the apps.

One query per section, whatever the tenant's size: lists are bounded (their total counted by a
window function in the same query), and what each row needs from other tables (a user's groups, a
group's members and grants, a subscription's recent deliveries) comes in as subqueries of that row.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Sum, Window
from django.db.models.functions import Coalesce, JSONObject, TruncDate
from django.utils import timezone

from audit.models import AuditLog
from branding.models import TenantBranding, TenantConfig
from core.charts import Series
from identity.models import ApiKey, Group, GroupPermission, User, UserGroup
from integrations.models import IntegrationCredential
from outbox.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tenancy.models import Tenant, TenantPackage
from usage.models import UsageMetric

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


def _usage(tenant, today: date) -> tuple[list[date], list[Series]]:
    """Calls per UTC day of the last USAGE_DAYS days (today included), by tool action."""
    days = [today - timedelta(days=offset) for offset in range(USAGE_DAYS - 1, -1, -1)]
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    totals = (
        UsageMetric.objects.for_tenant(tenant).filter(period_start__gte=since)
        .annotate(day=TruncDate("period_start", tzinfo=UTC)).values("day", key=F("tool_action__key"))
        .annotate(calls=Sum("count")).order_by()
    )
    per_action: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for row in totals:
        per_action[row["key"]][row["day"]] += row["calls"]
    ranked = sorted(per_action, key=lambda key: (-sum(per_action[key].values()), key))
    rest = defaultdict(float)
    for key in ranked[USAGE_ACTIONS:]:
        for day, calls in per_action[key].items():
            rest[day] += calls
    shown = [(key, per_action[key]) for key in ranked[:USAGE_ACTIONS]] + ([(OTHER_ACTIONS, rest)] if rest else [])
    return days, [Series(label=key, points=[(day, calls.get(day, 0)) for day in days]) for key, calls in shown]


def tenant_at_a_glance(tenant: Tenant, now: datetime | None = None) -> TenantGlance:
    """Ten queries, whatever the tenant holds."""
    now = now or timezone.now()
    usage_days, usage = _usage(tenant, now.astimezone(UTC).date())
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
        usage=usage,
        audit=list(AuditLog.objects.for_tenant(tenant).select_related("actor_user")
                   .order_by("-created_at", "-id")[:AUDIT_ENTRIES]),
    )
