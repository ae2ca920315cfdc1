"""What the back office's front page shows: the platform's health in five queries."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, F, Sum
from django.utils import timezone

from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery
from tenancy.models import Tenant
from usage.models import UsageMetric

__all__ = ["Dashboard", "platform_dashboard"]

TOP_ACTIONS = 10


@dataclass(frozen=True)
class Dashboard:
    tenants_by_status: dict[str, int]
    events_pending: int
    events_dead: int
    deliveries_failing: int
    week_start: datetime
    top_actions: list[dict]


def platform_dashboard(now: datetime | None = None) -> Dashboard:
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
