"""Retention of the delivery log and of the events it came from (by operating profile)."""

import structlog
from django.db import transaction
from django.db.models import Exists, OuterRef

from core.db.retention import delete_batches, retention_window
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery, WebhookDeliveryAttempt
from tenancy.models import Tenant

__all__ = ["purge_done_events", "purge_finished_deliveries"]

logger = structlog.get_logger("hub.retention")


def purge_finished_deliveries(now, *, batch_size: int = 1000) -> int:
    """Succeeded and dead deliveries past the window, with their attempts; pending and retrying ones
    stay, whatever their age. Tenant by tenant, a batch at a time: the batch's deliveries are locked
    (one being replayed meanwhile is skipped, and keeps its attempts), their attempts deleted by
    (tenant_id, delivery_id), then the deliveries."""
    total = 0
    for tenant_id in Tenant.objects.order_by("id").values_list("id", flat=True):
        finished = WebhookDelivery.objects.filter(
            tenant_id=tenant_id, status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.DEAD],
            created_at__lt=now - retention_window("webhook_delivery"),
        )
        while True:
            with transaction.atomic():
                ids = list(finished.select_for_update(skip_locked=True).values_list("id", flat=True)[:batch_size])
                if not ids:
                    break
                WebhookDeliveryAttempt.objects.filter(tenant_id=tenant_id, delivery_id__in=ids).delete()
                deleted, _ = WebhookDelivery.objects.filter(id__in=ids).delete()
            total += deleted
            logger.info("retention_batch", job="purge_webhook_deliveries", tenantId=str(tenant_id), deleted=deleted,
                        total=total)
    return total


def purge_done_events(now) -> int:
    """Events fanned out before the window whose deliveries are all gone (deleting an event would
    take its deliveries with it). Pending, processing and dead events stay."""
    events = OutboxEvent.objects.filter(
        status=EventStatus.DONE, created_at__lt=now - retention_window("webhook_delivery")
    ).exclude(Exists(WebhookDelivery.objects.filter(event=OuterRef("pk"))))
    return delete_batches(events.order_by("created_at"), job="purge_outbox_events")
