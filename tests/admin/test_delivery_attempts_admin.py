"""A delivery's page in the back office shows its attempts; replaying it calls the API's service."""

import pytest
from django.utils import timezone

from audit.models import AuditLog
from audit.services import SYSTEM
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery, WebhookDeliveryAttempt
from outbox.services import create_subscription
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def delivery_with_attempts(status):
    tenant = TenantFactory(slug="acme")
    subscription = create_subscription(tenant=tenant, url="https://hooks.example.com/in", event_types=["user.created"],
                                       actor=SYSTEM).subscription
    event = OutboxEvent.objects.create(tenant=tenant, type="user.created", payload={}, status=EventStatus.DONE)
    delivery = WebhookDelivery.objects.create(tenant=tenant, event=event, subscription=subscription, status=status,
                                              attempt_count=2)
    WebhookDeliveryAttempt.objects.create(tenant=tenant, delivery=delivery, number=1, started_at=timezone.now(),
                                          response_status=500, latency_ms=31, error="HTTP 500",
                                          response_excerpt="<b>database down</b>")
    WebhookDeliveryAttempt.objects.create(tenant=tenant, delivery=delivery, number=2, started_at=timezone.now(),
                                          latency_ms=10000, error="timed out")
    return delivery


def test_a_deliverys_page_lists_its_attempts(support_client):
    delivery = delivery_with_attempts(DeliveryStatus.DEAD)
    page = support_client.get(f"/admin/outbox/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "HTTP 500" in page and "31 ms" in page and "timed out" in page and "no answer" in page
    assert "&lt;b&gt;database down&lt;/b&gt;" in page and "<b>database down</b>" not in page  # escaped
    assert "UTC" in page  # times say their zone


def test_replay_sends_a_succeeded_delivery_again_and_audits_it(operator_client):
    delivery = delivery_with_attempts(DeliveryStatus.SUCCEEDED)
    response = operator_client.post("/admin/outbox/webhookdelivery/", {"action": "replay",
                                                                       "_selected_action": [str(delivery.pk)]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts.count() == 2  # the history stays
    assert AuditLog.objects.get(tenant=delivery.tenant, action="webhooks.update", entity_type="webhook_delivery"
                                ).metadata.items() >= {"requeued": 1, "replay": True}.items()


def test_support_may_not_replay(support_client):
    delivery = delivery_with_attempts(DeliveryStatus.DEAD)
    support_client.post("/admin/outbox/webhookdelivery/", {"action": "replay", "_selected_action": [str(delivery.pk)]})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD


def test_everything_dead_since_a_period_is_requeued_at_once(operator_client):
    """Filtered by "created since" and selected across pages, one Requeue sends the period's failed or
    dead deliveries again, and nothing older."""
    from datetime import timedelta

    recent = delivery_with_attempts(DeliveryStatus.DEAD)
    old = WebhookDelivery.objects.create(tenant=recent.tenant, event=recent.event, subscription=recent.subscription,
                                         status=DeliveryStatus.DEAD, attempt_count=5)
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    listed = operator_client.get("/admin/outbox/webhookdelivery/?since=7d").context["cl"].result_list
    assert [delivery.pk for delivery in listed] == [recent.pk]
    response = operator_client.post("/admin/outbox/webhookdelivery/?since=7d", {
        "action": "requeue", "select_across": "1", "index": "0", "_selected_action": [str(recent.pk)]})
    assert response.status_code == 302
    assert dict(WebhookDelivery.objects.values_list("pk", "status")) == {recent.pk: DeliveryStatus.PENDING,
                                                                         old.pk: DeliveryStatus.DEAD}
