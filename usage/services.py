"""Counting use of tool actions in hourly buckets.

Hub routes count every authorized request. Doing that with a write per request would turn each
tenant's hottest bucket row into a lock every request waits on, so each process buffers counts in
memory and flushes them every USAGE_FLUSH_SECONDS with one upsert (`count = count + n`) — and at
exit. A process killed outright loses at most that interval of counts (docs/usage.md). Product
reports (`POST /v1/usage/events`, `/batch`) are written straight away, idempotent by their event id.
"""

import atexit
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone

import structlog
from django.conf import settings
from django.db import connection, transaction

from audit.models import IdempotencyStatus

__all__ = ["UsageBuffer", "UsageReport", "buffer", "hour_start", "report_usage", "upsert_counts"]

logger = structlog.get_logger("hub.usage")

_UPSERT = """
INSERT INTO usage_metric (id, tenant_id, tool_action_id, period_start, period_end, count, created_at, updated_at)
SELECT gen_random_uuid(), v.tenant_id::uuid, action.id, v.period_start::timestamptz,
       v.period_start::timestamptz + interval '1 hour', v.count::bigint, now(), now()
FROM (VALUES {values}) AS v(tenant_id, action_key, period_start, count)
JOIN tool_action AS action ON action.key = v.action_key
ON CONFLICT (tenant_id, tool_action_id, period_start)
DO UPDATE SET count = usage_metric.count + EXCLUDED.count, updated_at = now()
"""


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(dt_timezone.utc).replace(minute=0, second=0, microsecond=0)


def upsert_counts(counts: dict) -> None:
    """Add {(tenant_id, action_key, hour_start): n} to the buckets, in one statement."""
    if not counts:
        return
    rows = list(counts.items())
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [value for (tenant_id, key, start), count in rows for value in (str(tenant_id), key, start, count)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(values=values), params)


class UsageBuffer:
    """Per-process counts waiting to be flushed; safe to use from several threads."""

    def __init__(self):
        self._counts: Counter = Counter()
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None

    def count(self, tenant_id, action_key: str, at: datetime | None = None) -> None:
        moment = at or datetime.now(dt_timezone.utc)
        with self._lock:
            self._counts[(tenant_id, action_key, hour_start(moment))] += 1
            if self._flusher is None and settings.USAGE_FLUSH_SECONDS > 0:
                self._start_flusher()

    def _start_flusher(self) -> None:
        self._flusher = threading.Thread(target=self._run, name="usage-flusher", daemon=True)
        self._flusher.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while (interval := settings.USAGE_FLUSH_SECONDS) > 0:
            time.sleep(interval)
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - keep counting; the counts were put back
                logger.exception("usage_flush_failed")
            finally:
                connection.close()
        with self._lock:
            self._flusher = None

    def flush(self) -> int:
        with self._lock:
            pending, self._counts = self._counts, Counter()
        if not pending:
            return 0
        try:
            upsert_counts(pending)
        except Exception:
            with self._lock:
                self._counts.update(pending)  # try again next time rather than lose them
            raise
        return sum(pending.values())

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())


buffer = UsageBuffer()



# Each event id claimed once per tenant (principal ""), in the transaction that counts it: the ids
# this statement returns are the new ones; a concurrent claim of the same id waits for the other
# transaction and then finds it taken.
_CLAIM = """
INSERT INTO idempotency_key (id, tenant_id, key, handler, principal, fingerprint, status, created_at, updated_at)
SELECT gen_random_uuid(), %s::uuid, claimed.key, 'usage.report', '', '-', %s, now(), now()
FROM unnest(%s::text[]) AS claimed(key)
ON CONFLICT (tenant_id, principal, key, handler) DO NOTHING
RETURNING key
"""


@dataclass(frozen=True)
class UsageReport:
    action_key: str
    count: int
    occurred_at: datetime
    event_id: str | None = None


def report_usage(*, tenant, reports: list[UsageReport]) -> list[bool]:
    """A product's reports, counted together; for each, False when its event id was counted before
    (by an earlier report, or earlier in `reports`).

    The event ids are claimed in idempotency_key (handler `usage.report`) in the same transaction as
    the counts, so a retried report is counted once (within the 24 hours keys are kept).
    """
    ids = list(dict.fromkeys(report.event_id for report in reports if report.event_id))
    with transaction.atomic():
        new = set()
        if ids:
            with connection.cursor() as cursor:
                cursor.execute(_CLAIM, [str(tenant.pk), IdempotencyStatus.COMPLETED, ids])
                new = {key for (key,) in cursor.fetchall()}
        counted, counts = [], Counter()
        for report in reports:
            fresh = report.event_id is None or report.event_id in new
            new.discard(report.event_id)  # a second report with the same id in the batch is a duplicate
            counted.append(fresh)
            if fresh:
                counts[(tenant.pk, report.action_key, hour_start(report.occurred_at))] += report.count
        upsert_counts(counts)
    return counted
