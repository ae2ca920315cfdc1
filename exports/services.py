"""Tenant exports: requested through the API, built by a Celery worker, downloaded, expired."""

import gzip
import json

import structlog
from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import Actor, record
from core.api.exceptions import Conflict
from core.db.routers import replica_reads
from exports.document import build_document
from exports.models import ExportStatus, TenantExport

__all__ = ["RUN_EXPORT_TASK", "build_export", "record_download", "request_export"]

logger = structlog.get_logger("hub.exports")

RUN_EXPORT_TASK = "exports.tasks.run_export"


def _enqueue(export_id) -> None:
    """Start at once; if the broker is unreachable the sweep picks the export up within minutes.
    By name: the task calls build_export here, so this module does not import it back."""
    try:
        current_app.send_task(RUN_EXPORT_TASK, args=[str(export_id)])
    except Exception:  # noqa: BLE001 - the request that asked must not fail for it
        logger.warning("export_enqueue_failed", exportId=str(export_id), exc_info=True)


def request_export(*, tenant, actor: Actor) -> TenantExport:
    try:
        with transaction.atomic():
            export = TenantExport.objects.create(tenant=tenant, requested_by_type=actor.type, requested_by_id=actor.id)
            record(tenant=tenant, action="tenant.export", entity_type="tenant_export", entity_id=export.pk,
                   actor=actor, metadata={"status": ExportStatus.PENDING})
            transaction.on_commit(lambda: _enqueue(export.pk))
    except IntegrityError as exc:
        raise Conflict("An export of this tenant is already pending or running.") from exc
    return export


def _claim(export_id) -> TenantExport | None:
    """Take the export for this worker: pending, or running but abandoned by a worker that died."""
    now = timezone.now()
    claimable = Q(status=ExportStatus.PENDING) | Q(
        status=ExportStatus.RUNNING, started_at__lt=now - settings.EXPORT_STALE_AFTER
    )
    with transaction.atomic():
        export = (TenantExport.objects.select_for_update(skip_locked=True).select_related("tenant")
                  .filter(claimable, pk=export_id).first())
        if export is None:
            return None
        export.status, export.started_at = ExportStatus.RUNNING, now
        export.save(update_fields=["status", "started_at", "updated_at"])
    return export


def build_export(export_id) -> str | None:
    """Build and store the document; returns the final status, or None when another worker has it."""
    export = _claim(export_id)
    if export is None:
        return None
    try:
        # The heaviest read the hub makes (every audit entry of a tenant): on the replica when there is one.
        with replica_reads():
            content = build_document(export.tenant)
        document = gzip.compress(json.dumps(content, separators=(",", ":")).encode())
    except Exception:
        logger.exception("export_failed", exportId=str(export.pk), tenantId=str(export.tenant_id))
        export.status, export.error = ExportStatus.FAILED, "The export could not be built; request a new one."
    else:
        export.status, export.document, export.size_bytes = ExportStatus.DONE, document, len(document)
    export.finished_at = timezone.now()
    export.expires_at = export.finished_at + settings.EXPORT_LIFETIME
    with transaction.atomic():
        export.save(update_fields=["status", "error", "document", "size_bytes", "expires_at", "finished_at",
                                   "updated_at"])
        record(tenant=export.tenant, action="tenant.export", entity_type="tenant_export", entity_id=export.pk,
               metadata={"status": export.status, "sizeBytes": export.size_bytes})
    logger.info("export_finished", exportId=str(export.pk), status=export.status, sizeBytes=export.size_bytes)
    return export.status


@transaction.atomic
def record_download(*, export: TenantExport, actor: Actor) -> None:
    """Who took a copy of the tenant's data, and when."""
    record(tenant=export.tenant, action="tenant.export", entity_type="tenant_export", entity_id=export.pk,
           actor=actor, metadata={"downloaded": True})
