"""Fixed-window counters shared by every process, for login attempts and per-route limits.

Redis (production) increments atomically. Django's database cache (the embedded default) does not,
so there the read-increment-write runs under a PostgreSQL advisory lock on the counter's key.
"""

import time
import zlib
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction

__all__ = ["Hit", "counter_key", "hit", "increment", "increment_commands"]


@dataclass(frozen=True)
class Hit:
    allowed: bool
    count: int
    limit: int
    retry_after: int


def counter_key(key: str, window_seconds: int, now: float) -> str:
    """The cache key counting `key` in the fixed window that holds `now`."""
    return f"rl:{key}:{int(now // window_seconds)}"


def increment_commands(redis_key: str, window_seconds: int) -> list[tuple]:
    """INCRBY creates the counter at 1; EXPIRE NX starts the window's clock only on that first hit.
    Sent together, the INCRBY's answer is the count."""
    return [("INCRBY", redis_key, 1), ("EXPIRE", redis_key, window_seconds, "NX")]


def increment(key: str, window_seconds: int) -> int:
    """Count one event on the counter `key` (from counter_key); the count so far in its window."""
    redis_cache = caches["default"]
    if isinstance(redis_cache, RedisCache):
        redis_key = redis_cache.make_and_validate_key(key)
        pipeline = redis_cache._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        for command in increment_commands(redis_key, window_seconds):
            pipeline.execute_command(*command)
        count, _ = pipeline.execute()
        return count
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(key.encode()) - 2**31])
        count = (cache.get(key) or 0) + 1
        cache.set(key, count, timeout=window_seconds)
        return count


def hit(key: str, *, limit: int, window_seconds: int, counted: dict | None = None) -> Hit:
    """Count one event for `key`; allowed while the window's count stays within `limit`.
    `counted` maps counter keys already incremented for this event to their counts (the request's
    counter is taken at authentication, config/cache_reads.py); otherwise it is incremented here."""
    now = time.time()
    counter = counter_key(key, window_seconds, now)
    count = (counted or {}).get(counter)
    if count is None:
        count = increment(counter, window_seconds)
    retry_after = max(1, int((now // window_seconds + 1) * window_seconds - now + 0.999))
    return Hit(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)
