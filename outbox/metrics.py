"""The outbox's gauges on /metrics, counted in the database when scraped (core/observability/metrics.py)."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery

__all__ = ["OutboxCollector"]


class OutboxCollector:
    """Outbox and webhook delivery state, counted in the database when scraped."""

    def collect(self):
        events = GaugeMetricFamily(
            "hub_outbox_events",
            "Outbox events waiting to be fanned out (pending, processing) or given up on (dead).",
            labels=["status"],
        )
        waiting = [EventStatus.PENDING, EventStatus.PROCESSING, EventStatus.DEAD]
        counts = _counts_by_status(OutboxEvent.objects.filter(status__in=waiting))
        for status in waiting:
            events.add_metric([status], counts.get(status, 0))
        yield events
        deliveries = GaugeMetricFamily(
            "hub_webhook_deliveries",
            "Webhook deliveries by status (failed: waiting for a retry); succeeded and dead ones count "
            "until retention purges them.",
            labels=["status"],
        )
        counts = _counts_by_status(WebhookDelivery.objects.all())
        for status in DeliveryStatus.values:
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries


def _counts_by_status(queryset) -> dict:
    return dict(queryset.values_list("status").annotate(n=Count("pk")).order_by())
