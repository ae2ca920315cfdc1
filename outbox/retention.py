"""Retention of the delivery log and of the events it came from (by operating profile)."""

from django.db.models import Exists, OuterRef

from core.db.retention import delete_batches, retention_window
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery
from tenancy.retention import delete_in_batches

__all__ = ["purge_done_events", "purge_finished_deliveries"]


def purge_finished_deliveries(now) -> int:
    """Succeeded and dead deliveries past the window; pending and retrying ones stay, whatever their age."""
    return delete_in_batches(
        WebhookDelivery,
        job="purge_webhook_deliveries",
        status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.DEAD],
        created_at__lt=now - retention_window("webhook_delivery"),
    )


def purge_done_events(now) -> int:
    """Events fanned out before the window whose deliveries are all gone (deleting an event would
    take its deliveries with it). Pending, processing and dead events stay."""
    events = OutboxEvent.objects.filter(
        status=EventStatus.DONE, created_at__lt=now - retention_window("webhook_delivery")
    ).exclude(Exists(WebhookDelivery.objects.filter(event=OuterRef("pk"))))
    return delete_batches(events.order_by("created_at"), job="purge_outbox_events")
