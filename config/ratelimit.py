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

__all__ = ["Hit", "hit"]


@dataclass(frozen=True)
class Hit:
    allowed: bool
    count: int
    limit: int
    retry_after: int


def _increment_atomically(key: str, window_seconds: int) -> int:
    redis_cache = caches["default"]
    if isinstance(redis_cache, RedisCache):
        # INCR creates the counter at 1; EXPIRE NX starts the window's clock only on that first
        # hit. One pipelined round trip per request.
        redis_key = redis_cache.make_and_validate_key(key)
        pipeline = redis_cache._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        count, _ = pipeline.incr(redis_key).expire(redis_key, window_seconds, nx=True).execute()
        return count
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(key.encode()) - 2**31])
        count = (cache.get(key) or 0) + 1
        cache.set(key, count, timeout=window_seconds)
        return count


def hit(key: str, *, limit: int, window_seconds: int) -> Hit:
    """Count one event for `key`; allowed while the window's count stays within `limit`."""
    now = time.time()
    window = int(now // window_seconds)
    count = _increment_atomically(f"rl:{key}:{window}", window_seconds)
    retry_after = max(1, int((window + 1) * window_seconds - now + 0.999))
    return Hit(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)
