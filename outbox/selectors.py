"""Reads of the outbox: a subscription's delivery history and each delivery's attempts, a product's
subscriptions."""

from outbox.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription

__all__ = ["delivery_attempts", "product_subscriptions", "subscription_deliveries", "subscription_delivery_exists",
           "tenant_subscriptions"]

# A tenant's own subscriptions; the platform tenant's rows with a tool are products' (/v1/product/webhooks).
tenant_subscriptions = WebhookSubscription.objects.filter(tool__isnull=True)


def product_subscriptions(*, tenant, tool):
    """`tool`'s subscriptions: rows of `tenant`, the platform tenant, whichever of its credentials made them."""
    return WebhookSubscription.objects.for_tenant(tenant).filter(tool=tool)


def subscription_deliveries(*, tenant, subscription):
    """Every delivery of `subscription` still kept (retention purges finished ones), any status."""
    return WebhookDelivery.objects.for_tenant(tenant).filter(subscription=subscription)


def subscription_delivery_exists(*, tenant, subscription_id, delivery_id) -> bool:
    """Whether the tenant's own subscription `subscription_id` has the delivery `delivery_id`: one query."""
    return WebhookDelivery.objects.for_tenant(tenant).filter(
        pk=delivery_id, subscription_id=subscription_id, subscription__tool__isnull=True).exists()


def delivery_attempts(*, tenant, delivery_id):
    """Every attempt of the delivery still kept (they go with it under retention)."""
    return WebhookDeliveryAttempt.objects.for_tenant(tenant).filter(delivery_id=delivery_id)
