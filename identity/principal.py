"""Who is calling: a user (JWT) or a service (API key or service JWT), always with one tenant; or a
product (a product credential, `aza8p_…`), whose tenant is the one its request names and is set once
the route allowed it (identity/permissions.py): until then `tenant` is None."""

from dataclasses import dataclass, field

from audit.models import ActorType
from audit.services import Actor
from branding.selectors import tenant_limits

__all__ = ["PRODUCT", "Principal"]

PRODUCT = "product"


@dataclass
class Principal:
    type: str  # "user", "service" or "product"
    tenant: object
    user: object | None = None
    api_key: object | None = None
    product_credential: object | None = None
    tool: object | None = None  # a product's catalog tool
    claims: dict = field(default_factory=dict)
    # Cache entries read at authentication for the layers after it (core/cache/reads.py).
    cache_reads: object | None = field(default=None, repr=False, compare=False)

    # DRF and Django ask these of request.user.
    is_authenticated = True
    is_anonymous = False

    @property
    def id(self):
        if self.user is not None:
            return self.user.pk
        return self.api_key.pk if self.api_key is not None else self.product_credential.pk

    @property
    def actor(self) -> Actor:
        if self.user is not None:
            return Actor.for_user(self.user)
        # A product acts as a service: the trail names its credential's id (docs/decisions.md, issue 27).
        return Actor(type=ActorType.SERVICE, id=self.id)

    def rate_limit(self, category: str):
        """The tenant's own limit for a route category ("read" or "write", requests per minute), if it
        set one: the throttle (core/ratelimit.py) asks the principal, which knows its tenant's config.
        A product's limit is its credential's, never a tenant's."""
        if self.product_credential is not None:
            return None
        return tenant_limits(self.tenant.pk, cache_reads=self.cache_reads).get("rateLimits", {}).get(category)

    def log_fields(self) -> dict:
        fields = {"tenantId": str(self.tenant.pk) if self.tenant is not None else None, "actorType": self.actor.type}
        if self.user is not None:
            fields["userId"] = str(self.user.pk)
        elif self.api_key is not None:
            fields["serviceId"] = str(self.api_key.pk)
        else:
            fields["productCredentialId"] = str(self.product_credential.pk)
            fields["tool"] = self.tool.key
        return fields
