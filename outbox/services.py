"""Writing to the outbox: called inside the transaction of the change the event describes."""

from dataclasses import dataclass

import structlog
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import Actor, record
from core.api.exceptions import Unprocessable, ValidationFailed
from core.db.models import Status
from core.observability.tracing import current_traceparent
from core.request_context import current_request
from core.security.scrubber import scrub
from outbox.events import EVENT_SCHEMAS, EVENT_TYPES, enabled_event_types, is_enabled
from outbox.models import (
    DeliveryStatus,
    EventStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from outbox.webhooks import UnsafeWebhookUrl, generate_secret, signing_secrets, store_secret, validate_url
from tenancy.models import Tenant

__all__ = [
    "DRAIN_OUTBOX_TASK",
    "FAILED_OR_DEAD",
    "FINISHED",
    "SubscriptionWithSecret",
    "create_subscription",
    "delete_subscription",
    "emit",
    "requeue",
    "requeue_across_tenants",
    "requeue_events",
    "rotate_secret",
    "trigger_drain",
    "update_subscription",
]

logger = structlog.get_logger("hub.outbox")

DRAIN_OUTBOX_TASK = "outbox.tasks.drain_outbox"


def emit(event_type: str, *, tenant, data: dict) -> OutboxEvent | None:
    """Record `event_type` for delivery after commit; None when the operating profile leaves it out.

    Payloads carry ids and non-secret fields only; they pass through the scrubber as a safety net
    (but for the schema's identifiers, checked to be uuids).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.emit must run inside the transaction of the change it announces")
    if not is_enabled(event_type):
        return None
    schema = EVENT_SCHEMAS[event_type]
    schema.check(event_type, data)
    request = current_request()
    identifiers = {key: data[key] for key in schema.identifiers & set(data)}
    payload = {"version": schema.version, "data": {**scrub(data), **identifiers}}
    if request is not None:
        payload["requestId"] = request.request_id
    traceparent = current_traceparent()
    if traceparent:
        # Its deliveries continue this trace (outbox/delivery.py), whichever worker sends them.
        payload["traceparent"] = traceparent
    event = OutboxEvent.objects.create(tenant=tenant, type=event_type, payload=payload)
    _drain_after_commit()
    return event


def _drain_after_commit() -> None:
    """One drain per transaction however many events it writes: one task drains them all, and a
    1,000-event transaction must not publish 1,000 messages before its request can answer.

    Safe with savepoints: Django drops a callback together with the savepoint it was registered in,
    and any savepoint that can still roll it back also rolls back the event being written now.
    """
    pending = transaction.get_connection().run_on_commit
    if not any(callback is trigger_drain for _, callback, _ in pending):
        transaction.on_commit(trigger_drain)


def trigger_drain() -> None:
    """Low latency: a worker starts draining as soon as the event is committed. If the broker is
    unreachable the event waits for the beat sweep; the request that wrote it must not fail.
    By name: the task calls the delivery code, which this module must not import back."""
    try:
        current_app.send_task(DRAIN_OUTBOX_TASK)
    except Exception:  # noqa: BLE001 - the sweep delivers it later
        logger.warning("outbox_trigger_failed", exc_info=True)


# --- Webhook subscriptions --------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionWithSecret:
    subscription: WebhookSubscription
    # Shown once, at creation and at each rotation.
    secret: str


def _validated(url: str, event_types) -> list[str]:
    try:
        validate_url(url)
    except UnsafeWebhookUrl as exc:
        raise Unprocessable(details={"url": [str(exc)]}) from exc
    if not event_types:
        raise ValidationFailed(details={"eventTypes": ["Give at least one event type."]})
    unknown = sorted(set(event_types) - EVENT_TYPES)
    if unknown:
        raise Unprocessable(details={"eventTypes": [f"Unknown event types: {', '.join(unknown)}."]})
    # A subscription to a type this hub never emits would wait in silence: said at once instead.
    silent = sorted(set(event_types) - enabled_event_types())
    if silent:
        raise Unprocessable(details={"eventTypes": [
            f"Not emitted under this hub's operating profile ({settings.OPS_PROFILE}): {', '.join(silent)}."
        ]})
    return sorted(set(event_types))


@transaction.atomic
def create_subscription(*, tenant, url: str, event_types, description: str = "", actor: Actor,
                        product_credential=None) -> SubscriptionWithSecret:
    """A tenant's subscription; or, given a `product_credential`, its tool's (a row of `tenant`, the
    platform tenant, receiving every entitled tenant's events: docs/webhooks.md)."""
    subscription = WebhookSubscription(tenant=tenant, url=url, description=description,
                                       event_types=_validated(url, event_types), product_credential=product_credential,
                                       tool_id=product_credential.tool_id if product_credential else None)
    secret = generate_secret()
    store_secret(subscription, secret)
    subscription.save(force_insert=True)
    metadata = {"eventTypes": subscription.event_types}
    if product_credential is not None:
        metadata |= {"toolId": str(subscription.tool_id), "productCredentialId": str(product_credential.pk)}
    record(tenant=tenant, action="webhooks.create", entity_type="webhook_subscription", entity_id=subscription.pk,
           actor=actor, metadata=metadata)
    return SubscriptionWithSecret(subscription, secret)


@transaction.atomic
def update_subscription(*, subscription: WebhookSubscription, actor: Actor, **values) -> WebhookSubscription:
    if "url" in values or "event_types" in values:
        values["event_types"] = _validated(values.get("url", subscription.url),
                                           values.get("event_types", subscription.event_types))
    reason = values.pop("reason", None)
    if reason is not None and "status" not in values:
        raise Unprocessable(details={"reason": ["A reason goes with a status change."]})
    if "status" in values:
        values["suspended_reason"] = reason or "" if values["status"] != Status.ACTIVE else ""
        if values["status"] == Status.ACTIVE:
            values["failing_since"] = None
    changed = [name for name, value in values.items() if getattr(subscription, name) != value]
    for name in changed:
        setattr(subscription, name, values[name])
    if changed:
        subscription.save(update_fields=[*changed, "updated_at"])
        record(tenant=subscription.tenant, action="webhooks.update", entity_type="webhook_subscription",
               entity_id=subscription.pk, actor=actor, metadata={"changedFields": sorted(changed)})
    return subscription


@transaction.atomic
def rotate_secret(*, subscription: WebhookSubscription, actor: Actor) -> SubscriptionWithSecret:
    """A new secret; the old one keeps signing next to it for WEBHOOK_SECRET_GRACE."""
    subscription.previous_secret_expires_at = timezone.now() + settings.WEBHOOK_SECRET_GRACE
    secret = generate_secret()
    store_secret(subscription, secret, previous=signing_secrets(subscription)[0])
    subscription.save()
    record(tenant=subscription.tenant, action="webhooks.update", entity_type="webhook_subscription",
           entity_id=subscription.pk, actor=actor, metadata={"secretRotated": True})
    return SubscriptionWithSecret(subscription, secret)


@transaction.atomic
def delete_subscription(*, subscription: WebhookSubscription, actor: Actor) -> None:
    record(tenant=subscription.tenant, action="webhooks.delete", entity_type="webhook_subscription",
           entity_id=subscription.pk, actor=actor)
    # Attempts do not cascade (outbox/models.py): deleted here through their tenant's index.
    WebhookDeliveryAttempt.objects.for_tenant(subscription.tenant).filter(delivery__subscription=subscription).delete()
    subscription.delete()


# What a requeue sends again by default; a replay (of one chosen delivery) sends a succeeded one too.
FAILED_OR_DEAD = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)
FINISHED = (DeliveryStatus.SUCCEEDED, *FAILED_OR_DEAD)


@transaction.atomic
def requeue(*, deliveries, actor: Actor, tenant, statuses=FAILED_OR_DEAD) -> int:
    """Send deliveries in `statuses` again, from the first step of the retry schedule (their attempts
    stay, and count on). A pending one is on its way already."""
    count = deliveries.filter(status__in=statuses).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), attempt_count=0, last_error=""
    )
    if count:
        # A replay (succeeded deliveries included) sends again what already arrived: the trail says which.
        record(tenant=tenant, action="webhooks.update", entity_type="webhook_delivery", actor=actor,
               metadata={"requeued": count, "replay": DeliveryStatus.SUCCEEDED in statuses})
        _drain_after_commit()
    return count


@transaction.atomic
def requeue_across_tenants(*, deliveries, actor: Actor, statuses=FAILED_OR_DEAD) -> int:
    """`requeue` for a selection that may span tenants: each tenant's share is audited in that tenant."""
    return sum(
        requeue(deliveries=deliveries.filter(tenant=tenant), actor=actor, tenant=tenant, statuses=statuses)
        for tenant in Tenant.objects.filter(pk__in=deliveries.values("tenant_id"))
    )


@transaction.atomic
def requeue_events(*, events, actor: Actor, platform_tenant) -> int:
    """Send events again: dead ones go back to the fan-out, failed or dead deliveries of the rest retry.

    Done events are not fanned out twice (their subscribers would get duplicates); what is resent is
    what did not arrive. Reviving events is audited in the platform tenant, which owns the outbox.
    """
    event_ids = list(events.values_list("pk", flat=True))
    revived = OutboxEvent.objects.filter(pk__in=event_ids, status=EventStatus.DEAD).update(
        status=EventStatus.PENDING, available_at=timezone.now(), last_error=""
    )
    if revived:
        record(tenant=platform_tenant, action="outbox.events.requeue", entity_type="outbox_event", actor=actor,
               metadata={"events": revived})
        _drain_after_commit()
    return revived + requeue_across_tenants(deliveries=WebhookDelivery.objects.filter(event_id__in=event_ids), actor=actor)
