"""Prometheus metrics: how one scrape gathers what the hub counts (served by metrics_endpoint.py).

Two sources, because the hub runs in many processes:

- Counters and histograms of what a web process sees (error codes, logins, request latency per
  route name from django-prometheus) live in that process. Under gunicorn every worker writes them
  to `PROMETHEUS_MULTIPROC_DIR` (set up by `config/gunicorn.py`) and a scrape adds them up, so any
  worker answers for all of them.
- What Celery workers do (outbox depth, deliveries by outcome, dead deliveries) is read from the
  database at scrape time, by collectors the owning apps register (outbox/metrics.py): the tables
  are the one place every worker on every machine writes to, so the numbers hold however many
  workers run, and no worker has to be scraped.

No metric carries a tenant label: tenants are unbounded, and a label per tenant would be a
time series per tenant.
"""

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["API_ERRORS", "CACHE_UNAVAILABLE", "exposition", "register_database_collector"]

API_ERRORS = Counter("hub_api_errors", "Error responses by their public error code.", ["code"])
# core/cache/faults.py: "failed" tried Redis and could not reach it, "skipped" did not try (retry interval).
CACHE_UNAVAILABLE = Counter("hub_cache_unavailable", "Cache calls that could not reach Redis.", ["operation", "outcome"])


# Collectors that read the database when scraped, registered by the apps that own the tables
# (outbox/apps.py registers the outbox's).
_database_registry = CollectorRegistry(auto_describe=False)


def register_database_collector(collector) -> None:
    """Add a collector whose `collect()` counts rows at scrape time."""
    _database_registry.register(collector)


def _process_registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def exposition() -> bytes:
    """Every metric in Prometheus' text format: this process' (or all gunicorn workers') and the database's."""
    return generate_latest(_process_registry()) + generate_latest(_database_registry)
