"""Retention of usage counts (by operating profile), by the start of their time bucket."""

from config.retention import delete_in_batches, retention_window
from usage.models import UsageMetric

__all__ = ["purge_usage_metrics"]


def purge_usage_metrics(now) -> int:
    cutoff = now - retention_window("usage_metric")
    return delete_in_batches(UsageMetric, job="purge_usage_metrics", period_start__lt=cutoff)
