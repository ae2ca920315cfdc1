"""Reads of the outbox: a subscription's delivery history."""

from outbox.models import WebhookDelivery

__all__ = ["subscription_deliveries"]


def subscription_deliveries(*, tenant, subscription):
    """Every delivery of `subscription` still kept (retention purges finished ones), any status."""
    return WebhookDelivery.objects.for_tenant(tenant).filter(subscription=subscription)
