"""Draining the outbox: fan events out to subscriptions, then deliver, retry, give up.

Claims use `SELECT … FOR UPDATE SKIP LOCKED`, so any number of workers share the work without
taking the same rows. No lock is held during network I/O: a claimed delivery is leased (its
`next_attempt_at` pushed past the request timeout) and the claim committed before the request is
sent; a worker that dies mid-request simply lets the lease lapse and another worker retries it
(at-least-once: receivers dedupe by `webhook-id`, the event id).
"""

import contextvars
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.utils import parsedate_to_datetime

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.services import record
from config.models import Status
from config.tracing import continue_trace
from outbox.models import DeliveryStatus, EventStatus, OutboxEvent, WebhookDelivery, WebhookSubscription
from outbox.webhooks import UnsafeWebhookUrl, event_body, resolve_public_address, sign, signing_secrets

__all__ = ["RETRY_SCHEDULES", "claim_deliveries", "deliver", "drain", "fan_out"]

logger = structlog.get_logger("hub.webhooks")

# Delay before each retry, by operating profile (the first attempt is immediate).
RETRY_SCHEDULES = {
    "mvp": [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6)],
    # Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    "standard": [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                 timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)],
    "enterprise": [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                   timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)],
}
JITTER = 0.1
MAX_ERROR_LENGTH = 500


def fan_out(*, batch_size: int = 100) -> int:
    """Turn pending events into one delivery per matching active subscription. Returns events done."""
    now = timezone.now()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(status=EventStatus.PENDING, available_at__lte=now)
            .order_by("available_at")[:batch_size]
        )
        if not events:
            return 0
        deliveries = []
        for event in events:
            if event.tenant_id is not None:
                # Only subscriptions that existed when it happened: a new one does not replay history.
                subscriptions = WebhookSubscription.objects.for_tenant(event.tenant_id).filter(
                    status=Status.ACTIVE, event_types__contains=[event.type], created_at__lte=event.created_at
                )
                deliveries += [
                    WebhookDelivery(tenant_id=event.tenant_id, event=event, subscription=subscription, next_attempt_at=now)
                    for subscription in subscriptions
                ]
            event.status, event.attempts = EventStatus.DONE, event.attempts + 1
        WebhookDelivery.objects.bulk_create(deliveries)
        OutboxEvent.objects.bulk_update(events, ["status", "attempts", "updated_at"])
    return len(events)


def claim_deliveries(*, batch_size: int) -> list[WebhookDelivery]:
    """Due deliveries, leased to this worker for the length of one attempt."""
    now = timezone.now()
    lease = timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    with transaction.atomic():
        claimed = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:batch_size]
        )
        WebhookDelivery.objects.filter(pk__in=[delivery.pk for delivery in claimed]).update(next_attempt_at=now + lease)
    return claimed


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer (a failed one), not a hop to follow


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: str, headers: dict) -> tuple[int | None, dict, str]:
    """(status, response headers, error) of one POST; status None when no answer came back."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, dict(response.headers), ""
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers or {}), f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, {}, str(getattr(error, "reason", error))[:MAX_ERROR_LENGTH]


def _retry_after(headers: dict) -> timedelta | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value))
    try:
        return max(parsedate_to_datetime(value) - timezone.now(), timedelta(0))
    except (TypeError, ValueError):
        return None


def _next_delay(attempts_made: int, headers: dict, status: int | None) -> timedelta | None:
    """How long until the next try, or None when the schedule is used up."""
    schedule = RETRY_SCHEDULES[settings.OPS_PROFILE]
    if attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1]
    delay = delay * (1 + random.uniform(-JITTER, JITTER))
    if status in (429, 503):
        delay = max(delay, _retry_after(headers) or timedelta(0))
    return delay


def _disable(subscription: WebhookSubscription, reason: str) -> None:
    subscription.status, subscription.suspended_reason = Status.SUSPENDED, reason
    subscription.save(update_fields=["status", "suspended_reason", "updated_at"])
    record(tenant=subscription.tenant, action="webhooks.update", entity_type="webhook_subscription",
           entity_id=subscription.pk, metadata={"disabled": True, "reason": reason})
    logger.warning("webhook_subscription_disabled", subscriptionId=str(subscription.pk), reason=reason)


def _request(subscription: WebhookSubscription, event: OutboxEvent, secrets_: list[str]) -> tuple[str, str, dict]:
    """(url, body, headers) of one signed attempt."""
    body = event_body(event)
    sent_at = timezone.now()
    message_id = str(event.pk)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Aza8-Hub-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": sign(secrets_, message_id=message_id, timestamp=sent_at, body=body),
    }
    return subscription.url, body, headers


def _send(url: str, body: str, headers: dict, event: OutboxEvent) -> tuple[int | None, dict, str, int]:
    """(status, response headers, error, elapsed ms) of one attempt. Runs in a pool thread, so it
    touches no database: a thread would open a connection of its own."""
    started = time.monotonic()
    span_attributes = {"messaging.message.id": str(event.pk), "webhook.event_type": event.type}
    with continue_trace("webhook.deliver", event.payload.get("traceparent"), span_attributes) as trace_headers:
        try:
            resolve_public_address(url)
            code, response_headers, error = _post(url, body, {**headers, **trace_headers})
        except UnsafeWebhookUrl as unsafe:
            code, response_headers, error = None, {}, str(unsafe)
    return code, response_headers, error, int((time.monotonic() - started) * 1000)


_DISABLED = (None, {}, "subscription disabled", 0)


def deliver(claimed: list[WebhookDelivery], pool: ThreadPoolExecutor) -> list[str]:
    """One attempt for each claimed delivery, all posted at once on `pool`, outside any transaction;
    then every outcome recorded. Returns the new statuses."""
    subscriptions = WebhookSubscription.objects.select_related("tenant").in_bulk(
        {delivery.subscription_id for delivery in claimed})
    events = OutboxEvent.objects.in_bulk({delivery.event_id for delivery in claimed})
    secrets_ = {pk: signing_secrets(subscription) for pk, subscription in subscriptions.items()
                if subscription.status == Status.ACTIVE}
    pending = []
    for delivery in claimed:
        subscription = subscriptions.get(delivery.subscription_id)
        if subscription is None:
            continue  # deleted since the claim, and its deliveries with it
        if subscription.status != Status.ACTIVE:
            pending.append((delivery, subscription, None))
            continue
        event = events[delivery.event_id]
        request = _request(subscription, event, secrets_[subscription.pk])
        # A copy of this context per thread: a delivery whose event stored no trace continues the
        # current one (the task's), as it did when it was sent from this thread.
        pending.append((delivery, subscription, pool.submit(contextvars.copy_context().run, _send, *request, event)))
    outcomes = [(delivery, subscription, future.result() if future else _DISABLED)
                for delivery, subscription, future in pending]
    succeeded = [outcome for outcome in outcomes if _is_success(outcome[2][0])]
    if succeeded:
        _record_successes(succeeded)
    return [DeliveryStatus.SUCCEEDED if _is_success(result[0]) else _record_failure(delivery.pk, subscription, *result)
            for delivery, subscription, result in outcomes]


def _is_success(code: int | None) -> bool:
    return code is not None and 200 <= code < 300


def _record_successes(succeeded: list) -> None:
    """Every success of a batch in one statement; a success ends its subscription's failing streak."""
    now = timezone.now()
    for delivery, _subscription, (code, _headers, _error, elapsed_ms) in succeeded:
        delivery.status, delivery.next_attempt_at, delivery.last_error = DeliveryStatus.SUCCEEDED, None, ""
        delivery.attempt_count = F("attempt_count") + 1
        delivery.response_code, delivery.response_time_ms, delivery.updated_at = code, elapsed_ms, now
    recovered = {subscription.pk for _delivery, subscription, _result in succeeded if subscription.failing_since}
    with transaction.atomic():
        WebhookDelivery.objects.bulk_update(
            [delivery for delivery, _subscription, _result in succeeded],
            ["status", "next_attempt_at", "last_error", "attempt_count", "response_code", "response_time_ms",
             "updated_at"],
        )
        if recovered:
            WebhookSubscription.objects.filter(pk__in=recovered).update(failing_since=None)


def _record_failure(delivery_id, subscription, code, headers, error, elapsed_ms) -> str:
    """After the batch's successes, so a success in the same batch has already ended the streak."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempt_count += 1
        delivery.response_code, delivery.response_time_ms = code, elapsed_ms
        delivery.last_error = (error or (f"HTTP {code}" if code else "no response"))[:MAX_ERROR_LENGTH]
        delay = None if subscription.status != Status.ACTIVE or code == 410 else _next_delay(
            delivery.attempt_count, headers, code)
        if delay is None:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.DEAD, None
        else:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, now + delay
        fresh = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        if code == 410 and fresh.status == Status.ACTIVE:
            _disable(fresh, "The receiver answered 410 Gone.")
        elif fresh.status == Status.ACTIVE:
            if fresh.failing_since is None:
                WebhookSubscription.objects.filter(pk=fresh.pk).update(failing_since=now)
            elif now - fresh.failing_since >= settings.WEBHOOK_DISABLE_AFTER:
                _disable(fresh, f"Every attempt failed since {fresh.failing_since.isoformat()}.")
        delivery.save()
    return delivery.status


def drain(*, time_budget_seconds: float = 50.0, on_backlog=None) -> dict:
    """Fan out and deliver until nothing is due or the budget is spent (one Celery task run).

    `on_backlog` is called once, the first time a claim comes back full: more is due than this
    process has threads for, so another worker process should join in.
    """
    deadline = time.monotonic() + time_budget_seconds
    totals = {"events": 0, "attempts": 0}
    concurrency = settings.WEBHOOK_DELIVERY_CONCURRENCY
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook") as pool:
        while time.monotonic() < deadline:
            events = fan_out()
            # No more than the pool posts at once, so each lease has to cover a single attempt.
            claimed = claim_deliveries(batch_size=concurrency)
            if on_backlog is not None and len(claimed) == concurrency:
                on_backlog()
                on_backlog = None
            deliver(claimed, pool)
            totals["events"] += events
            totals["attempts"] += len(claimed)
            if not events and not claimed:
                break
    return totals
