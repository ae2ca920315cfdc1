"""Per-tenant rate limits by route category (auth / read / write), shared across processes.

Defaults come from settings.RATE_LIMITS (requests per minute); a tenant's
`tenant_config.limits.rateLimits.{read,write}` overrides them. Unauthenticated routes (login,
refresh, invitations) count per client address in the `auth` category.
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from branding.selectors import tenant_limits
from config.api.exceptions import RateLimited
from config.middleware import client_ip
from config.ratelimit import hit

__all__ = ["TenantRateThrottle", "route_category"]

WINDOW_SECONDS = 60


def route_category(request) -> str:
    if getattr(request, "user", None) is None:
        return "auth"
    return "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"


class TenantRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        category = route_category(request)
        limit = settings.RATE_LIMITS[category]
        if category == "auth":
            subject = f"ip:{client_ip(request)}"
        else:
            tenant = request.user.tenant
            subject = f"tenant:{tenant.pk}"
            override = tenant_limits(tenant.pk).get("rateLimits", {}).get(category)
            if isinstance(override, int) and override > 0:
                limit = override
        result = hit(f"{category}:{subject}", limit=limit, window_seconds=WINDOW_SECONDS)
        if not result.allowed:
            raise RateLimited(result.retry_after)
        return True
