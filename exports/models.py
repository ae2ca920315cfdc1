"""Tenant data exports (LGPD portability): an async job and the JSON document it produced."""

from django.db import models

from core.db.models import choices_check
from core.db.naming import constraint_name, index
from tenancy.models import TenantScopedModel

__all__ = ["ExportStatus", "TenantExport"]


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


IN_FLIGHT = [ExportStatus.PENDING, ExportStatus.RUNNING]


class TenantExport(TenantScopedModel):
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    # Who asked: a user id, or an API key id for service callers (as in the audit log).
    requested_by_type = models.CharField(max_length=8)
    requested_by_id = models.UUIDField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when done; past it the export is gone from the API and purged by the retention run.
    expires_at = models.DateTimeField(null=True, blank=True)
    # The gzip-compressed JSON document. Kept in the database: the one store every web and worker
    # process shares, with no file storage to configure.
    document = models.BinaryField(null=True, blank=True, editable=False)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        db_table = "tenant_export"
        ordering = ["-created_at", "-id"]
        constraints = [
            choices_check("tenant_export", "status", ExportStatus),
            # One export at a time per tenant: a second request while one runs is a conflict.
            models.UniqueConstraint(
                fields=["tenant_id"],
                condition=models.Q(status__in=IN_FLIGHT),
                name=constraint_name("uq", "tenant_export", ["tenant_id", "in_flight"]),
            ),
        ]
        indexes = [index("tenant_export", "tenant_id", "created_at", "id")]
