"""Logging in and staying logged in: login, refresh rotation with reuse detection, logout,
invitation acceptance, and service tokens minted from API keys.

Refresh tokens and invitation tokens are opaque random strings; only their SHA-256 is stored (the
secrets carry 256 bits of entropy, so a fast hash is enough — unlike passwords).
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter

from audit.services import Actor, record
from core.api.exceptions import (
    AccountSuspended,
    InvalidToken,
    RateLimited,
    TenantSuspended,
    TokenExpired,
    TokenRevoked,
    Unauthorized,
    Unprocessable,
)
from core.db.models import Status
from core.ratelimit import hit
from identity.authentication import blacklist_access_token
from identity.models import Invitation, RefreshToken, User
from identity.tokens import TokenType, issue_access_token
from tenancy.selectors import platform_tenant, tenant_by_slug

__all__ = [
    "IssuedInvitation",
    "SessionTokens",
    "accept_invitation",
    "create_invitation",
    "login",
    "logout",
    "refresh",
    "service_token",
]

LOGINS = Counter("hub_logins", "Password logins by outcome (success or the refusal reason).", ["outcome"])


@dataclass(frozen=True)
class SessionTokens:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_response(self) -> dict:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


@dataclass(frozen=True)
class IssuedInvitation:
    token: str
    expires_at: object


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _group_names(user) -> list[str]:
    return sorted(
        user.memberships.filter(group__status=Status.ACTIVE, group__deleted_at__isnull=True).values_list(
            "group__name", flat=True
        )
    )


def _issue_session(user, *, family=None) -> SessionTokens:
    """A new access token and a new refresh token (in `family`, or a new one). Inside a transaction."""
    jti = uuid.uuid4()
    secret = secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        tenant=user.tenant,
        user=user,
        jti=jti,
        family=family or uuid.uuid4(),
        token_hash=_sha256(secret),
        expires_at=timezone.now() + settings.REFRESH_TOKEN_LIFETIME,
    )
    access = issue_access_token(
        subject=user.pk, tenant_id=user.tenant_id, token_type=TokenType.USER, groups=_group_names(user)
    )
    return SessionTokens(access.token, f"{jti.hex}.{secret}", access.expires_in)


def _ensure_can_sign_in(user) -> None:
    if user.tenant.status != Status.ACTIVE:
        raise TenantSuspended()
    if user.deleted_at is not None or user.status != Status.ACTIVE:
        raise AccountSuspended()


def _login_attempt_key(ip, tenant_slug: str, email: str) -> str:
    return "login:" + _sha256(f"{ip}|{tenant_slug.lower()}|{email.lower()}")


def login(*, tenant_slug: str, email: str, password: str, ip: str | None) -> SessionTokens:
    """Tokens for valid credentials; every failure is audited and answers the same UNAUTHORIZED."""
    attempt = hit(
        _login_attempt_key(ip, tenant_slug, email),
        limit=settings.LOGIN_ATTEMPTS_LIMIT,
        window_seconds=settings.LOGIN_ATTEMPTS_WINDOW_SECONDS,
    )
    tenant = tenant_by_slug(tenant_slug)
    user = (
        User.objects.select_related("tenant").filter(tenant=tenant, email__iexact=email.strip()).first()
        if tenant
        else None
    )
    if not attempt.allowed:
        _record_failed_login(tenant, user, "rate_limited")
        raise RateLimited(attempt.retry_after, "Too many login attempts; try again later.")
    if user is None:
        # Hash anyway, so the answer takes as long whether or not the account exists.
        User().set_password(password)
        _record_failed_login(tenant, None, "unknown_account" if tenant else "unknown_tenant")
        raise Unauthorized("Invalid credentials.")
    if not user.check_password(password):
        _record_failed_login(tenant, user, "wrong_password")
        raise Unauthorized("Invalid credentials.")
    try:
        _ensure_can_sign_in(user)
    except (TenantSuspended, AccountSuspended) as refusal:
        _record_failed_login(tenant, user, refusal.code.lower())
        raise
    with transaction.atomic():
        tokens = _issue_session(user)
        # Saved, not update()d: an update() would send every principal of the tenant back to the
        # database for its row (identity/principal_rows.py), after every login.
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        record(tenant=tenant, action="auth.login", entity_type="user", entity_id=user.pk, actor=Actor.for_user(user))
    LOGINS.labels(outcome="success").inc()
    return tokens


def _record_failed_login(tenant, user, reason: str) -> None:
    LOGINS.labels(outcome=reason).inc()
    # With no such tenant the attempt is still kept, in the platform tenant's trail.
    trail_tenant = tenant or platform_tenant()
    if trail_tenant is None:
        return
    with transaction.atomic():
        record(
            tenant=trail_tenant,
            action="auth.login.failed",
            entity_type="user",
            entity_id=user.pk if user else "",
            metadata={"reason": reason},
        )


def _parse_refresh_token(raw: str) -> tuple[uuid.UUID, str]:
    jti_hex, _, secret = (raw or "").partition(".")
    try:
        return uuid.UUID(hex=jti_hex), secret
    except ValueError as exc:
        raise InvalidToken("The refresh token is invalid.") from exc


def refresh(*, refresh_token: str) -> SessionTokens:
    """Rotate: the presented token is spent and a new pair issued in the same family.

    Presenting a token that was already rotated means it was copied: the whole family is revoked and
    the reuse audited, so whoever holds the newest token is logged out too.
    """
    jti, secret = _parse_refresh_token(refresh_token)
    reused = False
    with transaction.atomic():
        stored = (
            RefreshToken.objects.select_for_update().select_related("user__tenant").filter(jti=jti).first()
        )
        if stored is None or not hmac.compare_digest(stored.token_hash, _sha256(secret)):
            raise InvalidToken("The refresh token is invalid.")
        if stored.revoked_at is not None:
            if stored.replaced_by is not None:
                reused = True
                revoked = RefreshToken.objects.for_tenant(stored.tenant_id).filter(
                    family=stored.family, revoked_at__isnull=True
                ).update(revoked_at=timezone.now())
                record(
                    tenant=stored.user.tenant,
                    action="auth.refresh.reuse_detected",
                    entity_type="user",
                    entity_id=stored.user_id,
                    metadata={"family": str(stored.family), "revokedTokens": revoked},
                )
        elif stored.expires_at <= timezone.now():
            raise TokenExpired("The refresh token has expired.")
        else:
            user = stored.user
            _ensure_can_sign_in(user)
            tokens = _issue_session(user, family=stored.family)
            stored.revoked_at = timezone.now()
            stored.replaced_by = uuid.UUID(hex=tokens.refresh_token.partition(".")[0])
            stored.save(update_fields=["revoked_at", "replaced_by", "updated_at"])
            return tokens
    # Raised after the commit, so the family's revocation and its audit entry stay.
    raise TokenRevoked("The refresh token has been revoked." if not reused else "The refresh token was reused.")


def logout(*, principal, refresh_token: str | None) -> None:
    """Revoke the session's refresh token and refuse the access token from now on."""
    with transaction.atomic():
        if refresh_token:
            jti, secret = _parse_refresh_token(refresh_token)
            RefreshToken.objects.for_tenant(principal.tenant).filter(
                jti=jti, user=principal.user, token_hash=_sha256(secret), revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
        record(
            tenant=principal.tenant,
            action="auth.logout",
            entity_type="user",
            entity_id=principal.user.pk,
            actor=principal.actor,
        )
    blacklist_access_token(principal.claims)


def create_invitation(*, user, created_by=None) -> IssuedInvitation:
    """A single-use token that lets `user` choose a password. Inside the caller's transaction."""
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + settings.INVITATION_LIFETIME
    Invitation.objects.create(
        tenant=user.tenant, user=user, token_hash=_sha256(token), expires_at=expires_at, created_by=created_by
    )
    return IssuedInvitation(token=token, expires_at=expires_at)


def accept_invitation(*, token: str, password: str) -> User:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("user__tenant").filter(token_hash=_sha256(token or "")).first()
        )
        if invitation is None:
            raise InvalidToken("The invitation is invalid.")
        if invitation.accepted_at is not None:
            raise TokenRevoked("The invitation has already been used.")
        if invitation.expires_at <= timezone.now():
            raise TokenExpired("The invitation has expired.")
        user = invitation.user
        _ensure_can_sign_in(user)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise Unprocessable(details={"password": exc.messages}) from exc
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
        # Any other outstanding invitation for this user is spent too.
        Invitation.objects.for_tenant(user.tenant).filter(user=user, accepted_at__isnull=True).update(
            accepted_at=invitation.accepted_at
        )
        record(tenant=user.tenant, action="auth.invitation.accepted", entity_type="user", entity_id=user.pk,
               actor=Actor.for_user(user))
    return user


def service_token(*, principal):
    """A short-lived service JWT for an API-key principal, verifiable offline against the JWKS."""
    api_key = principal.api_key
    return issue_access_token(
        subject=api_key.pk,
        tenant_id=api_key.tenant_id,
        token_type=TokenType.SERVICE,
        scopes=list(api_key.scopes),
        extra_claims={"profile": api_key.profile} if api_key.profile else None,
    )
