from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from exports.models import ExportStatus, TenantExport
from exports.services import build_export


@shared_task
def run_export(export_id: str) -> str | None:
    return build_export(export_id)


@shared_task
def sweep_exports() -> int:
    """Safety net: exports whose trigger never reached a worker, or whose worker died."""
    stale = timezone.now() - settings.EXPORT_STALE_AFTER
    waiting = TenantExport.objects.filter(
        Q(status=ExportStatus.PENDING) | Q(status=ExportStatus.RUNNING, started_at__lt=stale)
    ).values_list("pk", flat=True)
    ids = [str(pk) for pk in waiting]
    for export_id in ids:
        run_export.delay(export_id)
    return len(ids)
