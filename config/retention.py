"""Batched deletes for retention jobs: short transactions, no table-wide lock, safe to overlap."""

import structlog

from tenancy.models import Tenant

__all__ = ["delete_in_batches"]

logger = structlog.get_logger("hub.retention")


def delete_in_batches(model, *, job: str, batch_size: int = 1000, **filters) -> int:
    """Delete `model` rows matching `filters`, tenant by tenant, `batch_size` rows at a time.

    Walking tenant by tenant keeps every query on an index that starts with tenant_id; deleting by
    primary key lets two overlapping runs share the work (a row deleted by one is simply not found
    by the other).
    """
    total = 0
    for tenant_id in Tenant.objects.order_by("id").values_list("id", flat=True):
        while True:
            ids = list(model.objects.filter(tenant_id=tenant_id, **filters).values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            deleted, _ = model.objects.filter(id__in=ids).delete()
            total += deleted
            logger.info("retention_batch", job=job, tenantId=str(tenant_id), deleted=deleted, total=total)
    return total
