"""Prometheus metrics: what the hub counts, and how one scrape gathers it (served by config/metrics_endpoint.py).

Two sources, because the hub runs in many processes:

- Counters and histograms of what a web process sees (error codes, logins, request latency per
  route name from django-prometheus) live in that process. Under gunicorn every worker writes them
  to `PROMETHEUS_MULTIPROC_DIR` (set up by `config/gunicorn.py`) and a scrape adds them up, so any
  worker answers for all of them.
- What Celery workers do (outbox depth, deliveries by outcome, dead deliveries) is read from the
  database at scrape time: the tables are the one place every worker on every machine writes to,
  so the numbers hold however many workers run, and no worker has to be scraped.

No metric carries a tenant label: tenants are unbounded, and a label per tenant would be a
time series per tenant.
"""

import os

from django.db.models import Count
from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["API_ERRORS", "LOGINS", "exposition"]

API_ERRORS = Counter("hub_api_errors", "Error responses by their public error code.", ["code"])
LOGINS = Counter("hub_logins", "Password logins by outcome (success or the refusal reason).", ["outcome"])


class _OutboxCollector:
    """Outbox and webhook delivery state, counted in the database when scraped."""

    def collect(self):
        from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery

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


_database_registry = CollectorRegistry(auto_describe=False)
_database_registry.register(_OutboxCollector())


def _process_registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition() -> bytes:
    """Every metric in Prometheus' text format: this process' (or all gunicorn workers') and the database's."""
    return generate_latest(_process_registry()) + generate_latest(_database_registry)
