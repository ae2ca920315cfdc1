"""Retention of the audit log (by operating profile) and of stored idempotent responses (24 h)."""

from audit.models import AuditLog, IdempotencyKey
from core.api.idempotency import IDEMPOTENCY_TTL
from core.db.retention import delete_batches, retention_window
from tenancy.models import Tenant
from tenancy.retention import delete_in_batches

__all__ = ["purge_audit_log", "purge_idempotency_keys"]


def purge_audit_log(now) -> int:
    """Delete entries older than the window, oldest first, so that what remains of each tenant's
    hash chain is always one unbroken suffix (audit/chain.py verifies from the first kept entry).

    `created_at` is taken before the chain lock, so two concurrent writers may store sequence n+1
    with an earlier time than n; only entries before the first kept sequence go, which never cuts
    a hole in the chain (such an entry waits for the next run).
    """
    cutoff = now - retention_window("audit_log")
    total = 0
    for tenant_id in Tenant.objects.order_by("id").values_list("id", flat=True):
        entries = AuditLog.objects.filter(tenant_id=tenant_id)
        old = entries.filter(created_at__lt=cutoff)
        first_kept = entries.filter(created_at__gte=cutoff).order_by("sequence").values_list("sequence", flat=True).first()
        if first_kept is not None:
            old = old.filter(sequence__lt=first_kept)
        total += delete_batches(old.order_by("sequence"), job="purge_audit_log", tenant_id=tenant_id)
    return total


def purge_idempotency_keys(now) -> int:
    return delete_in_batches(IdempotencyKey, job="purge_idempotency_keys", created_at__lt=now - IDEMPOTENCY_TTL)
