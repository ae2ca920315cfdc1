"""Reads of tenant exports."""

import gzip

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from exports.models import ExportStatus, TenantExport

__all__ = ["exports_to_resume", "open_document", "unexpired"]


def unexpired(exports):
    """An expired export is gone, whether or not the retention run has deleted its row yet."""
    return exports.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def exports_to_resume() -> list[str]:
    """Ids of exports whose trigger never reached a worker, or whose worker died mid-build."""
    stale = timezone.now() - settings.EXPORT_STALE_AFTER
    waiting = TenantExport.objects.filter(
        Q(status=ExportStatus.PENDING) | Q(status=ExportStatus.RUNNING, started_at__lt=stale)
    ).values_list("pk", flat=True)
    return [str(pk) for pk in waiting]


def open_document(export: TenantExport) -> bytes:
    return gzip.decompress(bytes(export.document))
