"""Who is calling: a user (JWT) or a service (API key or service JWT), always with one tenant."""

from dataclasses import dataclass, field

from audit.models import ActorType
from audit.services import Actor
from branding.selectors import tenant_limits

__all__ = ["Principal"]


@dataclass
class Principal:
    type: str  # "user" or "service"
    tenant: object
    user: object | None = None
    api_key: object | None = None
    claims: dict = field(default_factory=dict)
    # Cache entries read at authentication for the layers after it (core/cache/reads.py).
    cache_reads: object | None = field(default=None, repr=False, compare=False)

    # DRF and Django ask these of request.user.
    is_authenticated = True
    is_anonymous = False

    @property
    def id(self):
        return self.user.pk if self.user is not None else self.api_key.pk

    @property
    def actor(self) -> Actor:
        if self.user is not None:
            return Actor.for_user(self.user)
        return Actor(type=ActorType.SERVICE, id=self.api_key.pk)

    def rate_limit(self, category: str):
        """The tenant's own limit for a route category ("read" or "write", requests per minute), if it
        set one: the throttle (core/ratelimit.py) asks the principal, which knows its tenant's config."""
        return tenant_limits(self.tenant.pk, cache_reads=self.cache_reads).get("rateLimits", {}).get(category)

    def log_fields(self) -> dict:
        fields = {"tenantId": str(self.tenant.pk), "actorType": self.actor.type}
        if self.user is not None:
            fields["userId"] = str(self.user.pk)
        else:
            fields["serviceId"] = str(self.api_key.pk)
        return fields
