"""Reads that span the apps: the back office's front page, and what is left under an old key."""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Callable

from django.db import connections, router
from django.db.models import Aggregate, Count, F, FloatField, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from audit.models import AuditLog, IdempotencyKey, idempotency_associated_data
from core.charts import Series
from core.db.models import Status
from core.db.retention import retention_window
from core.security.crypto import current_key_version
from integrations.models import IntegrationCredential
from integrations.models import associated_data as credential_aad
from outbox.models import (
    DeliveryStatus,
    EventStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from outbox.webhooks import associated_data as subscription_aad
from tenancy.models import Tenant
from usage.models import UsageMetric

__all__ = ["ENCRYPTED_TABLES", "OTHER_TOOLS", "Dashboard", "DeliveryHealth", "EncryptedTable", "delivery_health",
           "platform_dashboard", "rows_under_old_keys", "tenant_choices", "tenants_by_status_history", "usage_by_tool",
           "usage_series", "utc_days"]

TOP_ACTIONS = 10
# A stacked bar tells apart a handful of colours; the smaller tools share one.
CHARTED_TOOLS = 6
OTHER_TOOLS = "other tools"


@dataclass(frozen=True)
class Dashboard:
    tenants_by_status: dict[str, int]
    events_pending: int
    events_dead: int
    deliveries_failing: int
    week_start: datetime
    top_actions: list[dict]


def platform_dashboard(now: datetime | None = None) -> Dashboard:
    """The platform's health in five queries."""
    now = now or timezone.now()
    # "This week" is the ISO week in UTC, the zone every period in the hub is stored in.
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = today - timedelta(days=today.weekday())
    events = dict(
        OutboxEvent.objects.filter(status__in=[EventStatus.PENDING, EventStatus.DEAD])
        .values_list("status").annotate(total=Count("id")).order_by()
    )
    return Dashboard(
        tenants_by_status=dict(
            Tenant.objects.values_list("status").annotate(total=Count("id")).order_by("status")
        ),
        events_pending=events.get(EventStatus.PENDING, 0),
        events_dead=events.get(EventStatus.DEAD, 0),
        deliveries_failing=WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.FAILED, DeliveryStatus.DEAD], updated_at__gte=now - timedelta(hours=24)
        ).count(),
        week_start=week_start,
        top_actions=list(
            UsageMetric.objects.filter(period_start__gte=week_start)
            .values(key=F("tool_action__key")).annotate(total=Sum("count")).order_by("-total", "key")[:TOP_ACTIONS]
        ),
    )


@dataclass(frozen=True)
class EncryptedTable:
    label: str
    model: type
    fields: tuple[str, ...]
    associated_data: Callable[[object], bytes]

    def under_old_keys(self, current: int):
        # A row without ciphertext has no key version (an idempotency claim still in progress).
        return self.model.objects.filter(key_version__isnull=False).exclude(key_version=current)


# Every table holding ciphertext under CREDENTIAL_KEYS: an old key may only be removed once
# none of them has a row left under it.
ENCRYPTED_TABLES = (
    EncryptedTable("integrationCredentials", IntegrationCredential, ("data_encrypted",), credential_aad),
    EncryptedTable("webhookSubscriptions", WebhookSubscription, ("secret_encrypted", "previous_secret_encrypted"),
                   subscription_aad),
    EncryptedTable("idempotentResponses", IdempotencyKey, ("response_encrypted",), idempotency_associated_data),
)


def rows_under_old_keys() -> dict[str, int]:
    current = current_key_version()
    return {table.label: table.under_old_keys(current).count() for table in ENCRYPTED_TABLES}


def utc_days(count: int, now: datetime | None = None) -> list[date]:
    """The last `count` UTC days, today (still running) included."""
    today = (now or timezone.now()).astimezone(UTC).date()
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _day_end(day: date) -> datetime:
    return _day_start(day + timedelta(days=1))


def tenant_choices() -> list[tuple]:
    """(id, slug, name) of every tenant, by slug: the dashboard's tenant selector."""
    return list(Tenant.objects.order_by("slug").values_list("id", "slug", "name"))


def usage_series(days: list[date], *, by: str, shown: int, other: str, tenant_id=None) -> list[Series]:
    """Calls per UTC day of `days` and per `by` (a key reached from a usage row: its tool's, its
    action's), all tenants' or one's, in one query: the `shown` busiest, then the rest added up as
    `other`."""
    metrics = UsageMetric.objects.filter(period_start__gte=_day_start(days[0]), period_start__lt=_day_end(days[-1]))
    if tenant_id is not None:
        metrics = metrics.filter(tenant_id=tenant_id)
    rows = (metrics.annotate(day=TruncDate("period_start", tzinfo=UTC))
            .values_list("day", by).annotate(total=Sum("count")).order_by())
    totals, by_key = {}, {}
    for day, key, total in rows:
        totals[key] = totals.get(key, 0) + total
        by_key.setdefault(key, {})[day] = total
    ranked = sorted(totals, key=lambda key: (-totals[key], key))
    series = [(key, by_key[key]) for key in ranked[:shown]]
    if rest := ranked[shown:]:
        series.append((other, {day: sum(by_key[key].get(day, 0) for key in rest) for day in days}))
    return [Series(label, [(day, float(values.get(day, 0))) for day in days]) for label, values in series]


def usage_by_tool(days: list[date], tenant_id=None) -> list[Series]:
    """Calls per tool (product) and UTC day; the tools beyond the busiest few add up as OTHER_TOOLS."""
    return usage_series(days, by="tool_action__tool__key", shown=CHARTED_TOOLS, other=OTHER_TOOLS,
                        tenant_id=tenant_id)


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: the value `fraction` of the group lies below, interpolated."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)r) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile's fraction lies between 0 and 1.")
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass(frozen=True)
class DeliveryHealth:
    success_rate: list[Series]
    latency: list[Series]


def delivery_health(days: list[date]) -> DeliveryHealth:
    """Per UTC day, from every attempt's own row (a retry counts as one more attempt): the share answered
    with a 2xx, and the median and 95th percentile latency, in one query. A day without attempts has
    no value (NaN), so its lines break there rather than dropping to zero."""
    in_period = WebhookDeliveryAttempt.objects.filter(started_at__gte=_day_start(days[0]),
                                                      started_at__lt=_day_end(days[-1]))
    rows = (in_period.annotate(day=TruncDate("started_at", tzinfo=UTC)).values_list("day")
            .annotate(attempts=Count("id"),
                      succeeded=Count("id", filter=Q(response_status__gte=200, response_status__lt=300)),
                      p50=Percentile("latency_ms", fraction=0.5), p95=Percentile("latency_ms", fraction=0.95))
            .order_by("day"))
    by_day = {day: (round(100 * succeeded / attempts, 1), round(median), round(slow))
              for day, attempts, succeeded, median, slow in rows}
    rate, p50, p95 = ([(day, float(by_day[day][measure]) if day in by_day else math.nan) for day in days]
                      for measure in range(3))
    return DeliveryHealth(success_rate=[Series("2xx answers", rate)],
                          latency=[Series("p50", p50), Series("p95", p95)])


# Each tenant's status at the end of every day, walked back from its status now through the audit
# entries of its status changes (tenants.status.update, metadata "from"): the status after a change
# is the next change's "from", or the current status after the last one. Each tenant then adds +1
# to its status from its creation (or the period's first day) and each change moves it from one
# status to the other; a running sum per status gives the counts. The changes are found through
# the audit's (tenant_id, entity_type, entity_id) index, a probe per tenant.
_TENANTS_BY_STATUS = f"""
WITH changes AS (
    SELECT entry.tenant_id, entry.created_at AS at, entry.metadata->>'from' AS before,
           COALESCE(LEAD(entry.metadata->>'from') OVER (PARTITION BY entry.tenant_id
                                                        ORDER BY entry.created_at, entry.sequence),
                    tenant.status) AS after,
           ROW_NUMBER() OVER (PARTITION BY entry.tenant_id ORDER BY entry.created_at, entry.sequence) AS position
    FROM {Tenant._meta.db_table} AS tenant
    JOIN {AuditLog._meta.db_table} AS entry ON entry.tenant_id = tenant.id AND entry.entity_type = 'tenant'
         AND entry.entity_id = tenant.id::text
    WHERE entry.action = 'tenants.status.update' AND entry.created_at >= %(start)s AND entry.created_at < %(end)s
), moves AS (
    SELECT tenant.created_at AS at, COALESCE(first.before, tenant.status) AS status, 1 AS delta
    FROM {Tenant._meta.db_table} AS tenant
    LEFT JOIN changes AS first ON first.tenant_id = tenant.id AND first.position = 1
    WHERE tenant.created_at < %(end)s
    UNION ALL SELECT at, before, -1 FROM changes WHERE before <> after
    UNION ALL SELECT at, after, 1 FROM changes WHERE before <> after
), daily AS (
    SELECT GREATEST((at AT TIME ZONE 'UTC')::date, %(first_day)s::date) AS day, status, SUM(delta) AS delta
    FROM moves GROUP BY 1, 2
)
SELECT status, day, SUM(COALESCE(daily.delta, 0)) OVER (PARTITION BY status ORDER BY day)
FROM (SELECT generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day')::date AS day) AS days
CROSS JOIN unnest(%(statuses)s::text[]) AS status
LEFT JOIN daily USING (day, status)
ORDER BY status, day
"""


def tenants_by_status_history(days: list[date]) -> list[Series]:
    """How many tenants were in each status at the end of each UTC day, in one query.

    The audit log is the only record of past statuses, so the period is cut to what the operating
    profile keeps of it (90 days under mvp): within that every change since the first day is held."""
    kept_since = (timezone.now() - retention_window("audit_log")).astimezone(UTC).date() + timedelta(days=1)
    days = [day for day in days if day >= kept_since]
    # A raw query is not routed by itself: it asks the router as the ORM would (replica_reads).
    with connections[router.db_for_read(AuditLog)].cursor() as cursor:
        cursor.execute(_TENANTS_BY_STATUS, {
            "start": _day_start(days[0]), "end": _day_end(days[-1]),
            "first_day": days[0], "last_day": days[-1], "statuses": list(Status.values),
        })
        rows = cursor.fetchall()
    return [Series(status, [(day, float(count)) for row_status, day, count in rows if row_status == status])
            for status in Status.values]
