"""Reads of the outbox: a subscription's delivery history, a product's subscriptions."""

from outbox.models import WebhookDelivery, WebhookSubscription

__all__ = ["product_subscriptions", "subscription_deliveries", "tenant_subscriptions"]

# A tenant's own subscriptions; the platform tenant's rows with a tool are products' (/v1/product/webhooks).
tenant_subscriptions = WebhookSubscription.objects.filter(tool__isnull=True)


def product_subscriptions(*, tenant, tool):
    """`tool`'s subscriptions: rows of `tenant`, the platform tenant, whichever of its credentials made them."""
    return WebhookSubscription.objects.for_tenant(tenant).filter(tool=tool)


def subscription_deliveries(*, tenant, subscription):
    """Every delivery of `subscription` still kept (retention purges finished ones), any status."""
    return WebhookDelivery.objects.for_tenant(tenant).filter(subscription=subscription)
