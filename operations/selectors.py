"""Reads that span the apps: the back office's front page, and what is left under an old key."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Callable

from django.db.models import Count, F, Sum
from django.utils import timezone

from audit.models import IdempotencyKey, idempotency_associated_data
from core.security.crypto import current_key_version
from integrations.models import IntegrationCredential
from integrations.models import associated_data as credential_aad
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery, WebhookSubscription
from outbox.webhooks import associated_data as subscription_aad
from tenancy.models import Tenant
from usage.models import UsageMetric

__all__ = ["ENCRYPTED_TABLES", "Dashboard", "EncryptedTable", "platform_dashboard", "rows_under_old_keys"]

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
