"""What one delivery attempt came to, and how a batch of them is kept (one WebhookDeliveryAttempt
row each, written in the statement that records the batch: outbox/delivery.py)."""

from typing import NamedTuple

import uuid6

from outbox.models import WebhookDeliveryAttempt

__all__ = ["INSERT_ATTEMPTS", "MAX_ERROR_LENGTH", "RESPONSE_EXCERPT_BYTES", "Outcome", "attempt_params", "excerpt"]

MAX_ERROR_LENGTH = 500
# Enough of an answer to read the receiver's error message; the rest is never read off the socket.
RESPONSE_EXCERPT_BYTES = 1024


class Outcome(NamedTuple):
    code: int | None  # None when no answer came back
    headers: dict
    error: str
    elapsed_ms: int
    started_at: object  # a datetime
    excerpt: str = ""

    @property
    def succeeded(self) -> bool:
        return self.code is not None and 200 <= self.code < 300

    @property
    def failure(self) -> str:
        """What went wrong, as the delivery and the attempt show it ("" for a success)."""
        if self.succeeded:
            return ""
        return (self.error or (f"HTTP {self.code}" if self.code else "no response"))[:MAX_ERROR_LENGTH]


def excerpt(response) -> str:
    """The start of a response's body as text PostgreSQL can store (no NUL)."""
    try:
        raw = response.read(RESPONSE_EXCERPT_BYTES)
    except (OSError, ValueError):  # the answer's status counts; a body cut short is no failure
        return ""
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


_TABLE = WebhookDeliveryAttempt._meta.db_table
# Each attempt numbered after its delivery's previous ones (one index probe each: a delivery is
# attempted by one worker at a time, under its lease).
INSERT_ATTEMPTS = (
    f"INSERT INTO {_TABLE} (id, tenant_id, delivery_id, number, started_at, response_status, latency_ms, error, "
    "response_excerpt, created_at, updated_at) "
    "SELECT attempt.id, attempt.tenant_id, attempt.delivery_id, 1 + COALESCE((SELECT max(previous.number) "
    f"FROM {_TABLE} AS previous WHERE previous.tenant_id = attempt.tenant_id "
    "AND previous.delivery_id = attempt.delivery_id), 0), attempt.started_at, attempt.code, attempt.elapsed_ms, "
    "attempt.error, attempt.excerpt, %s, %s "
    "FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::timestamptz[], %s::integer[], %s::integer[], %s::text[], "
    "%s::text[]) AS attempt (id, tenant_id, delivery_id, started_at, code, elapsed_ms, error, excerpt)"
)


def attempt_params(outcomes: list[tuple], now) -> list:
    """INSERT_ATTEMPTS' parameters for (delivery, Outcome) pairs."""
    columns = zip(*[(delivery.tenant_id, delivery.pk, result.started_at, result.code, result.elapsed_ms,
                     result.failure, result.excerpt) for delivery, result in outcomes], strict=True)
    return [now, now, [uuid6.uuid7() for _ in outcomes], *map(list, columns)]
