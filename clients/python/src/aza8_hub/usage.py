"""Usage reports, buffered in memory and sent in batches by one background thread.

Reports of the same tool action in the same tenant between two flushes add up to one event. Each
event gets a uuid4 `eventId` when its batch is formed, and a batch that fails (hub unreachable, 5xx,
429) is sent again later with the same ids: the hub counts an event id once, so a retry never counts
twice."""

import atexit
import logging
import threading
import uuid
from datetime import UTC, datetime

import httpx

from ._schema import UsageBatchRequest, UsageEventRequest
from .principal import Principal
from .transport import Transport

__all__ = ["Usage"]

log = logging.getLogger("aza8_hub")

BATCH_SIZE = 100  # the hub's limit per POST /v1/usage/events/batch
# Batches kept for a retry while the hub is unreachable; past this the oldest are dropped (logged).
MAX_PENDING_BATCHES = 1_000


class Usage:
    def __init__(self, transport: Transport, *, flush_seconds: float):
        self.transport, self.flush_seconds = transport, flush_seconds
        self._counts: dict[tuple[str, str], list] = {}  # (tenant, action) -> [count, first occurredAt]
        self._pending: list[tuple[str, list[UsageEventRequest]]] = []  # (tenant, events) awaiting a retry
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="aza8-hub-usage", daemon=True)
        self._thread.start()
        atexit.register(self.close)  # interpreter exit flushes what is left

    def report(self, principal: Principal, tool_action: str, count: int = 1) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        key = (principal.tenant_id, tool_action)
        with self._lock:
            entry = self._counts.get(key)
            if entry is None:
                self._counts[key] = [count, datetime.now(UTC).isoformat()]
            else:
                entry[0] += count

    def flush(self) -> bool:
        """Send everything reported so far; True when the hub took all of it."""
        with self._lock:
            counts, self._counts = self._counts, {}
        by_tenant: dict[str, list[UsageEventRequest]] = {}
        for (tenant_id, action), (count, occurred_at) in counts.items():
            by_tenant.setdefault(tenant_id, []).append(
                {"toolAction": action, "count": count, "occurredAt": occurred_at, "eventId": str(uuid.uuid4())})
        with self._send_lock:
            batches = self._pending + [(tenant_id, events[start:start + BATCH_SIZE])
                                       for tenant_id, events in by_tenant.items()
                                       for start in range(0, len(events), BATCH_SIZE)]
            self._pending = [batch for batch in batches if not self._send(*batch)]
            if len(self._pending) > MAX_PENDING_BATCHES:
                dropped = len(self._pending) - MAX_PENDING_BATCHES
                log.error("aza8_hub: dropping %d usage batches the hub has not taken", dropped)
                self._pending = self._pending[dropped:]
            return not self._pending

    def _send(self, tenant_id: str, events: list[UsageEventRequest]) -> bool:
        """True when the batch is done with: taken, or refused for good (kept only to retry)."""
        body: UsageBatchRequest = {"events": events}
        try:
            response = self.transport.post("/v1/usage/events/batch", body, tenant_id=tenant_id)
        except httpx.HTTPError as exc:
            log.warning("aza8_hub: usage batch not sent (%s); retrying later", exc)
            return False
        if response.status_code == 429 or response.status_code >= 500:
            log.warning("aza8_hub: usage batch not taken (HTTP %s); retrying later", response.status_code)
            return False
        if response.status_code >= 400:
            log.error("aza8_hub: usage batch refused (HTTP %s %s); dropped", response.status_code,
                      response.text[:200])
        return True

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the thread must outlive any one failure
                log.exception("aza8_hub: usage flush failed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self._wake.set()
        self._thread.join(timeout=10)
        self.flush()
