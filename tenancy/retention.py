"""Retention's tenant-by-tenant deletes: every tenant-scoped table is indexed by tenant first."""

from core.db.retention import delete_batches
from tenancy.models import Tenant

__all__ = ["delete_in_batches"]


def delete_in_batches(model, *, job: str, batch_size: int = 1000, order_by=(), **filters) -> int:
    """Delete `model` rows matching `filters` tenant by tenant, so that every query runs on an index
    that starts with tenant_id."""
    total = 0
    for tenant_id in Tenant.objects.order_by("id").values_list("id", flat=True):
        queryset = model.objects.filter(tenant_id=tenant_id, **filters).order_by(*order_by)
        total += delete_batches(queryset, job=job, batch_size=batch_size, tenant_id=tenant_id)
    return total
