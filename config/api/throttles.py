"""Per-tenant rate limits by route category (auth / read / write), shared across processes.

Defaults come from settings.RATE_LIMITS (requests per minute); a tenant's
`tenant_config.limits.rateLimits.{read,write}` overrides them. Unauthenticated routes (login,
refresh, invitations) count per client address in the `auth` category. An authenticated request's
counter is incremented at authentication, in the same cache round trip as its other reads
(`request_counter`, config/cache_reads.py); the throttle only compares it with the limit.
"""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from branding.selectors import tenant_limits
from config.api.exceptions import RateLimited
from config.middleware import client_ip
from config.ratelimit import counter_key, hit

__all__ = ["TenantRateThrottle", "request_counter", "route_category"]

WINDOW_SECONDS = 60


def _tenant_category(method: str) -> str:
    return "read" if method in ("GET", "HEAD", "OPTIONS") else "write"


def route_category(request) -> str:
    if getattr(request, "user", None) is None:
        return "auth"
    return _tenant_category(request.method)


def _tenant_subject(category: str, tenant_id) -> str:
    return f"{category}:tenant:{tenant_id}"


def request_counter(request, tenant_id) -> dict[str, int]:
    """The rate-limit counter (key → window seconds) this authenticated request counts on."""
    subject = _tenant_subject(_tenant_category(request.method), tenant_id)
    return {counter_key(subject, WINDOW_SECONDS, time.time()): WINDOW_SECONDS}


class TenantRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        category = route_category(request)
        limit = settings.RATE_LIMITS[category]
        counted = None
        if category == "auth":
            subject = f"{category}:ip:{client_ip(request)}"
        else:
            tenant, reads = request.user.tenant, request.user.cache_reads
            subject = _tenant_subject(category, tenant.pk)
            override = tenant_limits(tenant.pk, cache_reads=reads).get("rateLimits", {}).get(category)
            if isinstance(override, int) and override > 0:
                limit = override
            counted = reads.counts if reads is not None else None
        result = hit(subject, limit=limit, window_seconds=WINDOW_SECONDS, counted=counted)
        if not result.allowed:
            raise RateLimited(result.retry_after)
        return True
