"""Rate limiting, all of it: fixed-window counters shared by every process, and the DRF throttle.

Counters: Redis (production) increments atomically. Django's database cache (the embedded default)
does not, so there the read-increment-write runs under a PostgreSQL advisory lock on the counter's key.
They count login attempts (identity/sessions.py) and requests per route category.

The throttle: per-tenant limits by route category (auth / read / write). Defaults come from
settings.RATE_LIMITS (requests per minute); the authenticated principal may lower or raise them for its
tenant (`rate_limit(category)`: the tenant's `tenant_config.limits.rateLimits`, branding/selectors.py).
Unauthenticated routes (login, refresh, invitations) count per client address in the `auth` category.
A product credential (a principal with a `product_credential`) counts per credential in the `product`
category, whatever the tenant it acts in and the address it calls from: one product backend serves
many tenants, and many backends may share one address.
An authenticated request's counter is incremented at authentication, in the same cache round trip as
its other reads (`request_counter`, core/cache/reads.py); the throttle only compares it with the limit.

With Redis out of reach nothing can be counted: the throttle lets requests through (it guards
capacity), while `hit` raises CacheUnavailable to the other limits — the login limit answers 503
rather than allow unlimited password guesses (docs/rbac.md).
"""

import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection, transaction
from rest_framework.throttling import BaseThrottle

from core.api.exceptions import RateLimited
from core.cache.faults import UNREACHABLE, CacheUnavailable
from core.cache.redis import HubRedisCache
from core.middleware import client_ip

__all__ = ["PRODUCT", "Hit", "TenantRateThrottle", "counter_key", "hit", "increment", "increment_commands",
           "product_request_counter", "request_counter", "route_category"]

WINDOW_SECONDS = 60
PRODUCT = "product"


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
    """Count one event on the counter `key` (from counter_key); the count so far in its window.
    CacheUnavailable when Redis cannot be reached: no count can be made up."""
    redis_cache = caches["default"]
    if isinstance(redis_cache, HubRedisCache):
        if not redis_cache.health.reachable():
            redis_cache.health.unreachable("increment", required=True)
        redis_key = redis_cache.make_and_validate_key(key)
        pipeline = redis_cache._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        for command in increment_commands(redis_key, window_seconds):
            pipeline.execute_command(*command)
        try:
            count, _ = pipeline.execute()
        except UNREACHABLE as error:
            redis_cache.health.unreachable("increment", error, required=True)
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
    counter is taken at authentication, core/cache/reads.py); otherwise it is incremented here."""
    now = time.time()
    counter = counter_key(key, window_seconds, now)
    count = (counted or {}).get(counter)
    if count is None:
        count = increment(counter, window_seconds)
    retry_after = max(1, int((now // window_seconds + 1) * window_seconds - now + 0.999))
    return Hit(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)


def _tenant_category(method: str) -> str:
    return "read" if method in ("GET", "HEAD", "OPTIONS") else "write"


def route_category(request) -> str:
    principal = getattr(request, "user", None)
    if principal is None:
        return "auth"
    if getattr(principal, "product_credential", None) is not None:
        return PRODUCT
    return _tenant_category(request.method)


def _tenant_subject(category: str, tenant_id) -> str:
    return f"{category}:tenant:{tenant_id}"


def _product_subject(credential_id) -> str:
    return f"{PRODUCT}:credential:{credential_id}"


def _counter(subject: str) -> dict[str, int]:
    return {counter_key(subject, WINDOW_SECONDS, time.time()): WINDOW_SECONDS}


def request_counter(request, tenant_id) -> dict[str, int]:
    """The rate-limit counter (key → window seconds) this authenticated request counts on."""
    return _counter(_tenant_subject(_tenant_category(request.method), tenant_id))


def product_request_counter(credential_id) -> dict[str, int]:
    """The counter a request made with a product credential counts on."""
    return _counter(_product_subject(credential_id))


class TenantRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        category = route_category(request)
        limit = settings.RATE_LIMITS[category]
        counted = None
        if category == "auth":
            subject = f"{category}:ip:{client_ip(request)}"
        else:
            principal = request.user
            if category == PRODUCT:
                subject = _product_subject(principal.id)
            else:
                subject = _tenant_subject(category, principal.tenant.pk)
                override = principal.rate_limit(category)
                if isinstance(override, int) and override > 0:
                    limit = override
            counted = principal.cache_reads.counts if principal.cache_reads is not None else None
        try:
            result = hit(subject, limit=limit, window_seconds=WINDOW_SECONDS, counted=counted)
        except CacheUnavailable:
            return True  # fail open: a request limit guards capacity, not a secret (docs/rbac.md)
        if not result.allowed:
            raise RateLimited(result.retry_after)
        return True
