"""What the cache does when its Redis cannot be reached: it stops being a cache, never a failure.

A cache call that cannot reach Redis (refused, reset, timed out) is served as if the cache were
empty: a read is a miss, so the database answers; a write is skipped. Each one is counted in
`hub_cache_unavailable_total` and logged, at most once per LOG_INTERVAL_SECONDS per process. After
a failure the process leaves Redis alone for CACHE_RETRY_SECONDS and serves misses at once: a Redis
that times out rather than refuses would otherwise cost every call its timeout.

Where a caller must know that the cache answered — a count a limit refuses on
(core.ratelimit.increment), a write that revokes something — the failure raises CacheUnavailable
instead (503 SERVICE_UNAVAILABLE with Retry-After when it reaches the API): inside
`cache_required()`, or with `required=True`.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar

import redis
import structlog
from django.conf import settings

from core.api.exceptions import ServiceUnavailable
from core.observability.metrics import CACHE_UNAVAILABLE

__all__ = ["UNREACHABLE", "CacheHealth", "CacheUnavailable", "cache_required"]

# What "cannot be reached" is; any other Redis error (a wrong command, a full memory) is a bug or a
# misconfiguration, and fails as it would anyway.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)
LOG_INTERVAL_SECONDS = 10.0
RETRY_AFTER_SECONDS = 5

logger = structlog.get_logger("hub.cache")

_required = ContextVar("cache_required", default=False)


class CacheUnavailable(ServiceUnavailable):
    """The cache could not be reached where the caller needed it to be; nothing was cached."""

    def __init__(self, message=None):
        super().__init__(RETRY_AFTER_SECONDS, message)


@contextmanager
def cache_required():
    """Cache calls inside raise CacheUnavailable rather than answer a miss or skip a write."""
    token = _required.set(True)
    try:
        yield
    finally:
        _required.reset(token)


class CacheHealth:
    """One cache's view of its Redis, per process."""

    def __init__(self):
        self._retry_at = 0.0
        self._logged_at = float("-inf")
        self._unlogged = 0

    def reachable(self) -> bool:
        """False while the process leaves Redis alone after a failure."""
        return time.monotonic() >= self._retry_at

    def unreachable(self, operation: str, error: Exception | None = None, *, required: bool = False) -> None:
        """Account for `operation` not reaching Redis: `error` when it was tried, None when it was
        not (within the retry interval). Raises CacheUnavailable if the caller needs the cache."""
        now = time.monotonic()
        CACHE_UNAVAILABLE.labels(operation=operation, outcome="failed" if error else "skipped").inc()
        if error is not None:
            self._retry_at = now + settings.CACHE_RETRY_SECONDS
        self._unlogged += 1
        if now - self._logged_at >= LOG_INTERVAL_SECONDS:
            logger.warning("cache_unavailable", operation=operation, error=repr(error) if error else None,
                           calls=self._unlogged, retryInSeconds=settings.CACHE_RETRY_SECONDS)
            self._logged_at, self._unlogged = now, 0
        if required or _required.get():
            raise CacheUnavailable() from error
