"""Retention of usage counts (by operating profile), by the start of their time bucket."""

from core.db.retention import retention_window
from tenancy.retention import delete_in_batches
from usage.models import UsageMetric

__all__ = ["purge_usage_metrics"]


def purge_usage_metrics(now) -> int:
    cutoff = now - retention_window("usage_metric")
    return delete_in_batches(UsageMetric, job="purge_usage_metrics", period_start__lt=cutoff)
