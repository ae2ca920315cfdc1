"""Draining the outbox: fan events out to subscriptions (outbox/fanout.py), then deliver, retry, give up.

Claims use `SELECT … FOR UPDATE SKIP LOCKED`, so any number of workers share the work without
taking the same rows. No lock is held during network I/O: a claimed delivery is leased (its
`next_attempt_at` pushed past the request timeout) and the claim committed before the request is
sent; a worker that dies mid-request simply lets the lease lapse and another worker retries it
(at-least-once: receivers dedupe by `webhook-id`, the event id).
"""

import contextvars
import functools
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import timedelta
from email.utils import parsedate_to_datetime

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.services import record
from core.db.models import Status
from core.observability.tracing import continue_trace
from outbox.attempts import INSERT_ATTEMPTS, MAX_ERROR_LENGTH, Outcome, attempt_params, excerpt
from outbox.fanout import fan_out
from outbox.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookSubscription
from outbox.webhooks import UnsafeWebhookUrl, event_body, resolve_public_address, sign, signing_secrets

__all__ = ["RETRY_SCHEDULES", "claim_deliveries", "drain", "record_outcomes", "send_batch"]

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
# While delivering, how often a worker looks for new events (an empty look costs about a claim).
FAN_OUT_INTERVAL = 0.2


# What sending, signing and recording an attempt read of each claimed row; the rest stays in the
# database. Loading a timestamp costs psycopg a regular expression and Django a tzinfo swap, and the
# full rows carried eight of them: loading them was most of a claim's time, more than PostgreSQL's.
# An instance leaves the other fields deferred (touching one would cost a query, which
# tests/outbox asserts does not happen); a failure reloads its delivery and subscription whole.
_CLAIMED_FIELDS = {
    WebhookDelivery: ("id", "tenant", "event", "subscription", "status", "attempt_count"),
    OutboxEvent: ("id", "tenant", "type", "payload", "created_at"),
    WebhookSubscription: ("id", "tenant", "status", "url", "secret_encrypted", "previous_secret_encrypted",
                          "previous_secret_expires_at", "key_version", "failing_since"),
}


@functools.cache
def _claimed_fields(model) -> list:
    """In the model's own order, which Model.from_db() expects of a partial row."""
    names = {model._meta.get_field(name).name for name in _CLAIMED_FIELDS[model]}
    return [field for field in model._meta.concrete_fields if field.name in names]


def _columns(model, alias: str) -> str:
    return ", ".join(f"{alias}.{field.column}" for field in _claimed_fields(model))


# One statement, so no transaction to open and commit: lock due rows no other worker holds, push
# their next_attempt_at past the lease, hand them back with their events and subscriptions (in no
# order: the batch is sent at once, and every claimed row now has the same next_attempt_at). The
# statuses are spelled out, not bound, so the planner can match the partial index on them. The
# locking read is a materialised CTE, run once: as `WHERE id IN (subquery)` the planner may choose a
# semi-join that reruns it for each row, each run skipping the rows already claimed and finding the
# next ones, so one claim took the whole backlog instead of a batch.
_CLAIM = f"""
    WITH due AS MATERIALIZED (
        SELECT id FROM webhook_delivery
        WHERE status IN ('{DeliveryStatus.PENDING}', '{DeliveryStatus.FAILED}') AND next_attempt_at <= %s
        ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE webhook_delivery SET next_attempt_at = %s FROM due WHERE webhook_delivery.id = due.id
        RETURNING {_columns(WebhookDelivery, "webhook_delivery")}
    )
    SELECT {_columns(WebhookDelivery, "claimed")}, {_columns(OutboxEvent, "event")},
           {_columns(WebhookSubscription, "subscription")}
    FROM claimed JOIN outbox_event AS event ON event.id = claimed.event_id
    JOIN webhook_subscription AS subscription ON subscription.id = claimed.subscription_id
"""


@functools.cache
def _loading(model) -> tuple[list[str], list[tuple[int, list]]]:
    """The attribute names of `model`'s claimed fields, and the converters of those that have any."""
    fields = _claimed_fields(model)
    return ([field.attname for field in fields],
            [(index, converters) for index, field in enumerate(fields) if (converters := field.get_db_converters(connection))])


def _from_row(model, values):
    """A model instance from its claimed fields' column values, as the ORM would load them."""
    attnames, converted_fields = _loading(model)
    values = list(values)
    for index, converters in converted_fields:
        for converter in converters:
            values[index] = converter(values[index], None, connection)
    return model.from_db(connection.alias, attnames, values)


_EVENT = WebhookDelivery._meta.get_field("event")
_SUBSCRIPTION = WebhookDelivery._meta.get_field("subscription")


def claim_deliveries(*, batch_size: int) -> list[WebhookDelivery]:
    """Due deliveries with their events and subscriptions, leased to this worker for the length of
    one attempt. One round trip: a busy worker claims every few dozen milliseconds."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, [now, batch_size, lease_until])
        rows = cursor.fetchall()
    event_at = len(_loading(WebhookDelivery)[0])
    subscription_at = event_at + len(_loading(OutboxEvent)[0])
    subscriptions = {}
    claimed = []
    for row in rows:
        delivery = _from_row(WebhookDelivery, row[:event_at])
        # One instance per subscription, as prefetching gave: a batch decrypts its secrets once.
        if delivery.subscription_id not in subscriptions:
            subscriptions[delivery.subscription_id] = _from_row(WebhookSubscription, row[subscription_at:])
        # As prefetch_related() fills them: the ids are already set, so no descriptor checks.
        _EVENT.set_cached_value(delivery, _from_row(OutboxEvent, row[event_at:subscription_at]))
        _SUBSCRIPTION.set_cached_value(delivery, subscriptions[delivery.subscription_id])
        claimed.append(delivery)
    return claimed


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is an answer (a failed one), not a hop to follow


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: str, headers: dict) -> tuple[int | None, dict, str, str]:
    """(status, response headers, error, body excerpt) of one POST; status None when no answer came back."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, dict(response.headers), "", excerpt(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers or {}), f"HTTP {error.code}", excerpt(error)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, {}, str(getattr(error, "reason", error))[:MAX_ERROR_LENGTH], ""


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


def _send(url: str, body: str, headers: dict, event: OutboxEvent) -> Outcome:
    """One attempt. Runs in a pool thread, so it touches no database: a thread would open a
    connection of its own."""
    started_at, started = timezone.now(), time.monotonic()
    span_attributes = {"messaging.message.id": str(event.pk), "webhook.event_type": event.type}
    with continue_trace("webhook.deliver", event.payload.get("traceparent"), span_attributes) as trace_headers:
        try:
            resolve_public_address(url)
            code, response_headers, error, excerpt = _post(url, body, {**headers, **trace_headers})
        except UnsafeWebhookUrl as unsafe:
            code, response_headers, error, excerpt = None, {}, str(unsafe), ""
    return Outcome(code, response_headers, error, int((time.monotonic() - started) * 1000), started_at, excerpt)


def send_batch(claimed: list[WebhookDelivery], pool: ThreadPoolExecutor) -> dict[Future, WebhookDelivery]:
    """Start one attempt per claimed delivery on `pool`; each future gives its Outcome. A
    subscription's secrets are decrypted once per batch."""
    secrets_ = {}
    started = {}
    for delivery in claimed:
        subscription, event = delivery.subscription, delivery.event
        if subscription.status != Status.ACTIVE:
            future = Future()
            future.set_result(Outcome(None, {}, "subscription disabled", 0, timezone.now()))
        else:
            if subscription.pk not in secrets_:
                secrets_[subscription.pk] = signing_secrets(subscription)
            request = _request(subscription, event, secrets_[subscription.pk])
            # A copy of this context per thread: a delivery whose event stored no trace continues
            # the current one (the task's), as it did when it was sent from this thread.
            future = pool.submit(contextvars.copy_context().run, _send, *request, event)
        started[future] = delivery
    return started


def record_outcomes(outcomes: list[tuple[WebhookDelivery, Outcome]]) -> list[str]:
    """Record finished attempts, (delivery, result of its future) each: every attempt's row and
    every success in one statement, then each failure. Returns the new statuses."""
    succeeded = [(delivery, result) for delivery, result in outcomes if result.succeeded]
    if outcomes:
        _record_attempts_and_successes(outcomes, succeeded)
    return [DeliveryStatus.SUCCEEDED if result.succeeded else
            _record_failure(delivery.pk, delivery.subscription, result) for delivery, result in outcomes]


def _record_attempts_and_successes(outcomes, succeeded) -> None:
    """Every attempt's row and every success in one statement (so in autocommit: no BEGIN and COMMIT
    round trips); a success ends its subscription's failing streak."""
    now = timezone.now()
    if not succeeded:
        _execute(INSERT_ATTEMPTS, attempt_params(outcomes, now))
        return
    recovered = list({delivery.subscription_id for delivery, _result in succeeded if delivery.subscription.failing_since})
    # SQL, not bulk_update(): building its CASE per row and field cost more than the posts.
    _execute(
        "WITH recovered AS (UPDATE webhook_subscription SET failing_since = NULL WHERE id = ANY (%s::uuid[])), "
        f"attempts AS ({INSERT_ATTEMPTS}) "
        "UPDATE webhook_delivery AS delivery SET status = %s, attempt_count = delivery.attempt_count + 1, "
        "next_attempt_at = NULL, last_error = '', response_code = outcome.code, "
        "response_time_ms = outcome.elapsed_ms, updated_at = %s "
        "FROM unnest(%s::uuid[], %s::integer[], %s::integer[]) AS outcome (id, code, elapsed_ms) "
        "WHERE delivery.id = outcome.id",
        [recovered, *attempt_params(outcomes, now), DeliveryStatus.SUCCEEDED, now,
         [delivery.pk for delivery, _result in succeeded], [result.code for _delivery, result in succeeded],
         [result.elapsed_ms for _delivery, result in succeeded]],
    )


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _record_failure(delivery_id, subscription, result: Outcome) -> str:
    """After the successes recorded with it, which have already ended the failing streak."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempt_count += 1
        code = result.code
        delivery.response_code, delivery.response_time_ms = code, result.elapsed_ms
        delivery.last_error = result.failure
        delay = None if subscription.status != Status.ACTIVE or code == 410 else _next_delay(
            delivery.attempt_count, result.headers, code)
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


def _finished(in_flight: dict[Future, WebhookDelivery], *, keep: int) -> list[tuple[WebhookDelivery, Outcome]]:
    """Wait until at most `keep` attempts are still in flight and at least one has finished; take
    the finished ones out of `in_flight`."""
    finished = []
    while in_flight and (len(in_flight) > keep or not finished):
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        finished += [(in_flight.pop(future), future.result()) for future in done]
    return finished


def drain(*, time_budget_seconds: float = 50.0, on_backlog=None) -> dict:
    """Fan out and deliver until nothing is due or the budget is spent (one Celery task run).

    Up to WEBHOOK_DELIVERY_CONCURRENCY requests are in flight on a thread pool. Once half of them
    have finished, their outcomes are recorded together and as many deliveries claimed as threads
    are free: the database is visited once per several deliveries, the pool never runs dry, and
    every claimed delivery is sent at once, so its lease covers that one attempt. `on_backlog` is
    called if the first claim fills the pool: another worker process should join in.
    """
    deadline = time.monotonic() + time_budget_seconds
    totals = {"events": 0, "attempts": 0}
    concurrency = settings.WEBHOOK_DELIVERY_CONCURRENCY
    in_flight = {}
    events, fanned_out_at = 0, -FAN_OUT_INTERVAL
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook") as pool:
        while True:
            spending = time.monotonic() < deadline
            # Again at once while events keep coming, else every FAN_OUT_INTERVAL: an event committed
            # meanwhile also queued a drain of its own, which an idle worker process takes.
            if spending and (events or time.monotonic() - fanned_out_at >= FAN_OUT_INTERVAL):
                events, fanned_out_at = fan_out(), time.monotonic()
            else:
                events = 0
            room = concurrency - len(in_flight)
            claimed = claim_deliveries(batch_size=room) if spending and room else []
            in_flight.update(send_batch(claimed, pool))
            # After the sends have started: asking for help is a broker round trip, and the claimed
            # deliveries' leases are running.
            if on_backlog is not None and len(claimed) == concurrency:
                on_backlog()
            on_backlog = None
            totals["events"] += events
            totals["attempts"] += len(claimed)
            if not in_flight and not events:
                break
            record_outcomes(_finished(in_flight, keep=concurrency // 2))
    return totals
