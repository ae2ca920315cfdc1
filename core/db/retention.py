"""Retention: how long each kind of row is kept, and the batched deletes that enforce it (tenant by
tenant: tenancy/retention.py; every purge: operations/services.run_retention).

Every purge deletes in short transactions of at most `batch_size` rows, selected by primary key and
deleted with their filter re-applied, so no table-wide lock is taken, a row that changed state in
between is left alone, and two overlapping runs share the work (a row deleted by one is simply not
found by the other).
"""

from datetime import timedelta

import structlog
from django.conf import settings

__all__ = ["delete_batches", "retention_window"]

logger = structlog.get_logger("hub.retention")


def retention_window(kind: str) -> timedelta:
    """How long rows of `kind` are kept under the operating profile (settings.RETENTION_DAYS)."""
    return timedelta(days=settings.RETENTION_DAYS[settings.OPS_PROFILE][kind])


def delete_batches(queryset, *, job: str, batch_size: int = 1000, tenant_id=None) -> int:
    """Delete the rows of `queryset`, `batch_size` at a time, in the queryset's order."""
    total = 0
    while True:
        ids = list(queryset.values_list("id", flat=True)[:batch_size])
        if not ids:
            return total
        deleted, _ = queryset.filter(id__in=ids).order_by().delete()
        total += deleted
        logger.info("retention_batch", job=job, tenantId=str(tenant_id) if tenant_id else None, deleted=deleted,
                    total=total)
