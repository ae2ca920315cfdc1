"""Finished exports are deleted (document included) once they expire."""

from exports.models import TenantExport
from tenancy.retention import delete_in_batches

__all__ = ["purge_expired_exports"]


def purge_expired_exports(now) -> int:
    return delete_in_batches(TenantExport, job="purge_exports", batch_size=20, expires_at__lt=now)
