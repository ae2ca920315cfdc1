"""The one DRF authentication path: credential → principal and tenant, with every status check.

`Authorization: Bearer <credential>` carries an API key (`aza8_…`), an access JWT (user or service)
or a product credential (`aza8p_…`). For the first two the tenant always comes from the credential;
`X-Tenant-Id` may only repeat it.

A product credential names no tenant: it authenticates here as a principal of type "product" with
`tenant` None, and the tenant is found only once the route said a product may call it
(identity/permissions.py calls `product_tenant`): on a route in a tenant (`PRODUCT_IN_TENANT`),
`X-Tenant-Id` names it — missing or not a UUID 400 VALIDATION_ERROR, unknown 404 TENANT_NOT_FOUND,
suspended 403 TENANT_SUSPENDED, not entitled to the credential's tool 403 TOOL_NOT_ENTITLED; on a
platform-level product route (`PRODUCT_PLATFORM`) the header is not read and the tenant is the
platform tenant, where the product's own rows (its webhook subscriptions) and their trail live.
"""

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication

from branding.selectors import limits_cache_key
from core.api.access import PRODUCT_IN_TENANT, PRODUCT_PLATFORM
from core.api.exceptions import (
    WWW_AUTHENTICATE,
    AccountSuspended,
    ApiError,
    InvalidToken,
    TenantMismatch,
    TenantNotFound,
    TenantSuspended,
    TokenExpired,
    TokenRevoked,
    ToolNotEntitled,
    Unauthorized,
    ValidationFailed,
)
from core.cache.reads import CacheReads
from core.db.lookup import RowLookup
from core.db.models import Status
from core.middleware import client_ip
from core.ratelimit import product_request_counter, request_counter
from identity import api_keys, live_sessions, principal_rows, product_credentials
from identity.authorization import access_cache_keys
from identity.models import ApiKey, ApiKeyStatus, ProductCredentialStatus, User
from identity.principal import PRODUCT, Principal
from identity.selectors import subject_cache_keys
from identity.tokens import VERIFIED_TOKENS_KEPT, TokenType, decode_access_token
from tenancy.models import Tenant
from tenancy.selectors import platform_tenant

__all__ = ["HubAuthentication", "bearer_credential", "product_tenant"]

TENANT_HEADER = "X-Tenant-Id"


def bearer_credential(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


def _request_cache_reads(request, tenant_id, principal_type: str, principal_id, *extra_keys) -> CacheReads:
    """The principal's cached row, what the throttle and the permission check will read, fetched
    with `extra_keys`, and the request's rate-limit counter incremented, in one round trip."""
    return CacheReads(
        [*extra_keys, *principal_rows.cache_keys(tenant_id, principal_type, principal_id),
         *access_cache_keys(tenant_id, principal_type, principal_id), limits_cache_key(tenant_id)],
        counters=request_counter(request, tenant_id),
    )


def _check_tenant(tenant: Tenant | None, request) -> Tenant:
    if tenant is None:
        raise TenantNotFound()
    if tenant.status != Status.ACTIVE:
        raise TenantSuspended()
    header = request.META.get("HTTP_X_TENANT_ID")
    if header is not None and header.strip().lower() != str(tenant.pk):
        raise TenantMismatch()
    return tenant


def _check_api_key(api_key: ApiKey, request) -> None:
    if api_key.status == ApiKeyStatus.REVOKED:
        raise TokenRevoked("The API key has been revoked.")
    if api_key.expires_at is not None and api_key.expires_at <= timezone.now():
        raise TokenExpired("The API key has expired.")
    if api_key.status != ApiKeyStatus.ACTIVE:
        raise AccountSuspended("The API key is suspended.")
    if not api_keys.ip_allowed(api_key, client_ip(request)):
        raise Unauthorized("The API key may not be used from this address.")


def _check_user(user: User) -> None:
    if user.deleted_at is not None or user.status != Status.ACTIVE:
        raise AccountSuspended()


@dataclass(frozen=True)
class _KeyOwner:
    pk: object
    tenant_id: object  # None for a product credential
    tool_id: object = None  # a product credential's


class _KeyOwners:
    """Which API key (and tenant) or product credential (and tool) a credential that passed every
    check belonged to, by its exact text, for the most recent VERIFIED_TOKENS_KEPT of them in this
    process. A key's id, tenant and tool never change, so the next request with the same credential
    reads the key's cached row in its cache round trip, as an access token's does. The row (cached or not) is still checked each time,
    and a refused credential is forgotten: only one that was valid can spend a tenant's rate limit
    before its checks, and only once after it stopped being valid."""

    def __init__(self):
        self._owners = OrderedDict()
        self._lock = threading.Lock()

    def get(self, credential: str) -> _KeyOwner | None:
        return self._owners.get(credential)

    def remember(self, credential: str, owner: _KeyOwner) -> None:
        with self._lock:
            self._owners[credential] = owner
            if len(self._owners) > VERIFIED_TOKENS_KEPT:
                self._owners.popitem(last=False)

    def forget(self, credential: str) -> None:
        with self._lock:
            self._owners.pop(credential, None)


_key_owners = _KeyOwners()
# The rows a token names, by id in its tenant (a user's without its password hash: principal_rows).
_SUBJECTS = {
    User: principal_rows.USER_ROW,
    ApiKey: RowLookup(ApiKey, join="tenant", filters=("pk", "tenant_id")),
}
_API_KEY_BY_PREFIX = RowLookup(ApiKey, join="tenant", filters=("prefix",))


def _product_cache_reads(request, owner: _KeyOwner) -> CacheReads:
    """A product credential's cached row, what `product_tenant` reads of the tenant the request
    names (its row, its entitlement to the tool), the decision about the user the route asks about,
    and the credential's rate-limit counter (per credential, whatever the tenant: core/ratelimit.py),
    in one round trip."""
    tenant_id = _tenant_id_header(request)
    tenant_keys = [] if tenant_id is None else principal_rows.tenant_row_keys(tenant_id)
    return CacheReads(
        [*principal_rows.cache_keys(None, PRODUCT, owner.pk), *tenant_keys,
         *product_credentials.entitlement_cache_keys(tenant_id, owner.tool_id),
         *_subject_keys(request, tenant_id, owner.tool_id)],
        counters=product_request_counter(owner.pk),
    )


def _subject_keys(request, tenant_id, tool_id) -> list[str]:
    """What the route's answer about a tenant user reads, when the view names that user up front
    (`product_subject(request)` → (user id, session id or None), None when the request names none
    it could answer about: the view refuses it later, in its own words)."""
    view = (request.parser_context or {}).get("view")
    product_subject = getattr(view, "product_subject", None)
    subject = product_subject(request) if tenant_id is not None and product_subject is not None else None
    if subject is None:
        return []
    user_id, session_id = subject
    return subject_cache_keys(tenant_id, tool_id, str(user_id), str(session_id) if session_id else None)


def _by_prefix(credential: str, prefix: str, lookup: RowLookup, principal_type: str, cache_reads):
    """(owner, reads, row) of an API key or product credential by its text: once this process knows
    whose it is (`_key_owners`), its cached row through the request's round trip (`cache_reads(owner)`),
    else (None, None, the row read by its prefix)."""
    owner = _key_owners.get(credential)
    if owner is None:
        return None, None, lookup.get(prefix=prefix)
    reads = cache_reads(owner)
    row = principal_rows.PrincipalRow(lookup, reads, owner.tenant_id, principal_type, owner.pk)
    found = row.cached()
    if found is None or found.prefix != prefix:
        found = row.fetch(prefix=prefix)
    return owner, reads, found


def _token_subject(model, claims, reads: CacheReads):
    """The user or API key a token names, in the tenant it names: cached, or one query when its row
    changed."""
    row = principal_rows.PrincipalRow(_SUBJECTS[model], reads, claims["tenantId"], claims["type"], claims["sub"])
    subject = row.cached() or row.fetch(pk=claims["sub"], tenant_id=claims["tenantId"])
    if subject is None:
        if not Tenant.objects.filter(pk=claims["tenantId"]).exists():
            raise TenantNotFound()
        raise InvalidToken()
    return subject


class HubAuthentication(BaseAuthentication):
    def authenticate(self, request):
        credential = bearer_credential(request)
        if credential is None:
            return None
        if product_credentials.looks_like_product_credential(credential):
            principal = self._from_product_credential(credential, request)
        elif api_keys.looks_like_api_key(credential):
            principal = self._from_api_key(credential, request)
        else:
            principal = self._from_jwt(credential, request)
        request._request.principal = principal  # for the access log line
        return principal, credential

    def authenticate_header(self, request):
        return WWW_AUTHENTICATE

    def _from_api_key(self, credential, request) -> Principal:
        parts = api_keys.split_key(credential)
        if parts is None:
            raise InvalidToken("The API key is malformed.")
        prefix, secret = parts
        owner, reads, api_key = _by_prefix(credential, prefix, _API_KEY_BY_PREFIX, TokenType.SERVICE, lambda owner: (
            _request_cache_reads(request, owner.tenant_id, TokenType.SERVICE, owner.pk)))
        try:
            if api_key is None or not api_keys.verify_secret(api_key, secret):
                raise InvalidToken("The API key is invalid.")
            tenant = _check_tenant(api_key.tenant, request)
            _check_api_key(api_key, request)
        except ApiError:
            _key_owners.forget(credential)
            raise
        api_keys.touch_last_used(api_key)
        if owner is None:
            _key_owners.remember(credential, _KeyOwner(pk=api_key.pk, tenant_id=api_key.tenant_id))
            reads = _request_cache_reads(request, tenant.pk, TokenType.SERVICE, api_key.pk)
            reads.receive()  # never leave the answers waiting
        return Principal(type=TokenType.SERVICE, tenant=tenant, api_key=api_key, cache_reads=reads)

    def _from_product_credential(self, credential, request) -> Principal:
        parts = product_credentials.split_credential(credential)
        if parts is None:
            raise InvalidToken("The product credential is malformed.")
        prefix, secret = parts
        owner, reads, found = _by_prefix(credential, prefix, principal_rows.PRODUCT_CREDENTIAL_ROW, PRODUCT,
                                         lambda owner: _product_cache_reads(request, owner))
        try:
            if found is None or not product_credentials.verify_secret(found, secret):
                raise InvalidToken("The product credential is invalid.")
            if found.status != ProductCredentialStatus.ACTIVE:
                raise TokenRevoked("The product credential has been revoked.")
        except ApiError:
            _key_owners.forget(credential)
            raise
        api_keys.touch_last_used(found)
        if owner is None:
            # As text: every cache key of the credential's requests names them.
            owner = _KeyOwner(pk=str(found.pk), tenant_id=None, tool_id=str(found.tool_id))
            _key_owners.remember(credential, owner)
            reads = _product_cache_reads(request, owner)
            reads.receive()  # never leave the answers waiting: the tenant may still be refused
        return Principal(type=PRODUCT, tenant=None, product_credential=found, tool=found.tool, cache_reads=reads)

    def _from_jwt(self, credential, request) -> Principal:
        claims = decode_access_token(credential)
        is_user = claims["type"] == TokenType.USER
        session_keys = [live_sessions.cache_key(claims["tenantId"], claims["sid"])] if is_user else []
        reads = _request_cache_reads(request, claims["tenantId"], claims["type"], claims["sub"], *session_keys)
        if claims["type"] == TokenType.SERVICE:
            api_key = _token_subject(ApiKey, claims, reads)
            tenant = _check_tenant(api_key.tenant, request)
            # A service token lives only as long as the key that minted it stays usable.
            _check_api_key(api_key, request)
            return Principal(type=TokenType.SERVICE, tenant=tenant, api_key=api_key, claims=claims, cache_reads=reads)
        user = _token_subject(User, claims, reads)
        tenant = _check_tenant(user.tenant, request)
        _check_user(user)
        # Last, so that a suspension (which ends the user's sessions too) still says so.
        if not live_sessions.is_alive(claims["tenantId"], claims["sid"], reads):
            raise TokenRevoked()
        return Principal(type=TokenType.USER, tenant=tenant, user=user, claims=claims, cache_reads=reads)


def _tenant_id_header(request) -> str | None:
    """The tenant id `X-Tenant-Id` names, as the canonical text every cache key holds; None when it is
    not a UUID."""
    try:
        return str(uuid.UUID(request.META.get("HTTP_X_TENANT_ID", "").strip()))
    except ValueError:
        return None


def _named_tenant(request, cache_reads: CacheReads) -> Tenant:
    tenant_id = _tenant_id_header(request)
    if tenant_id is None:
        problem = "Must be a tenant id (UUID)." if request.META.get("HTTP_X_TENANT_ID", "").strip() else \
            "This header is required."
        raise ValidationFailed(f"A product credential names its tenant with {TENANT_HEADER}.",
                               details={TENANT_HEADER: [problem]})
    tenant = principal_rows.TenantRow(cache_reads, tenant_id).get()
    if tenant is None:
        raise TenantNotFound("No tenant has this id.", status_code=404)
    return tenant


def product_tenant(principal: Principal, request, scope: str) -> Tenant:
    """The tenant a product principal acts in on a route it may call (`scope`: its `product_access`)."""
    if scope == PRODUCT_PLATFORM:
        tenant = platform_tenant()
        if tenant is None:
            raise TenantNotFound("The platform tenant does not exist yet.", status_code=404)
        return tenant
    if scope != PRODUCT_IN_TENANT:
        raise ValueError(f"product_access must be PRODUCT_IN_TENANT or PRODUCT_PLATFORM, not {scope!r}")
    tenant = _named_tenant(request, principal.cache_reads)
    if tenant.status != Status.ACTIVE:
        raise TenantSuspended()
    if not product_credentials.is_entitled(tenant, principal.tool, principal.cache_reads):
        raise ToolNotEntitled(details={"tool": principal.tool.key, "tenantId": str(tenant.pk)})
    return tenant


class HubAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = HubAuthentication
    name = ["bearerJwt", "apiKey"]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Access token from POST /v1/auth/login (user) or POST /v1/auth/token (service).",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "aza8_<prefix>_<secret>",
                "description": "API key sent as a bearer credential; X-Tenant-Id may repeat its tenant.",
            },
        ]
