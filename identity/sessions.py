"""Logging in and staying logged in: login, refresh rotation with reuse detection, logout,
invitation acceptance, proof of the current password, and service tokens minted from API keys.

Refresh tokens and invitation tokens are opaque random strings; only their SHA-256 is stored (the
secrets carry 256 bits of entropy, so a fast hash is enough — unlike passwords).
"""

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
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
from core.ratelimit import counter_key, hit
from identity.live_sessions import announce_ended_sessions, end_sessions
from identity.models import Invitation, RefreshToken, User
from identity.successor_seal import open_successor, seal_successor
from identity.tokens import TokenType, issue_access_token
from tenancy.selectors import entitled_tools, platform_tenant, tenant_by_slug

__all__ = [
    "IssuedInvitation",
    "SessionTokens",
    "accept_invitation",
    "check_credential_change",
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
    family = family or uuid.uuid4()
    RefreshToken.objects.create(
        tenant=user.tenant,
        user=user,
        jti=jti,
        family=family,
        token_hash=_sha256(secret),
        expires_at=timezone.now() + settings.REFRESH_TOKEN_LIFETIME,
    )
    access = issue_access_token(
        subject=user.pk, tenant_id=user.tenant_id, token_type=TokenType.USER, tools=entitled_tools(user.tenant),
        groups=_group_names(user), session=family,
    )
    return SessionTokens(access.token, f"{jti.hex}.{secret}", access.expires_in)


def _ensure_can_sign_in(user) -> None:
    if user.tenant.status != Status.ACTIVE:
        raise TenantSuspended()
    if user.deleted_at is not None or user.status != Status.ACTIVE:
        raise AccountSuspended()


def _login_attempt_key(ip, tenant_slug: str, email: str) -> str:
    return "login:" + _sha256(f"{ip}|{tenant_slug.lower()}|{email.lower()}")


def _attempt(key: str):
    """Count an attempt that may fail, before it is checked: counting first keeps concurrent
    guesses to the limit exactly. One that succeeds then clears the count (`_succeeded`), so only
    failures add up."""
    return hit(key, limit=settings.LOGIN_ATTEMPTS_LIMIT, window_seconds=settings.LOGIN_ATTEMPTS_WINDOW_SECONDS)


def _succeeded(key: str) -> None:
    cache.delete(counter_key(key, settings.LOGIN_ATTEMPTS_WINDOW_SECONDS, time.time()))


def login(*, tenant_slug: str, email: str, password: str, ip: str | None) -> SessionTokens:
    """Tokens for valid credentials; every failure is audited and answers the same UNAUTHORIZED."""
    attempt_key = _login_attempt_key(ip, tenant_slug, email)
    attempt = _attempt(attempt_key)
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
    _succeeded(attempt_key)
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

    Presenting a token that was already rotated means it was copied — unless it comes back within
    REFRESH_REUSE_GRACE_SECONDS while its successor is still unused, as a client's retry does: that
    gets the same successor pair again. Otherwise the whole family is revoked and the reuse audited,
    so whoever holds the newest token is logged out too.
    """
    jti, secret = _parse_refresh_token(refresh_token)
    with transaction.atomic():
        stored = (
            RefreshToken.objects.select_for_update().select_related("user__tenant").filter(jti=jti).first()
        )
        if stored is None or not hmac.compare_digest(stored.token_hash, _sha256(secret)):
            raise InvalidToken("The refresh token is invalid.")
        if stored.revoked_at is not None:
            if stored.replaced_by is None:
                raise TokenRevoked("The refresh token has been revoked.")
            retried = _successor_within_grace(stored, secret)
            if retried is not None:
                return retried
            revoked = end_sessions(stored.tenant_id, [stored.family], confirm=False)
            announce_ended_sessions(tenant=stored.user.tenant, user_id=stored.user_id, families=[stored.family])
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
            stored.sealed_successor = seal_successor(
                {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
                 "expires_in": tokens.expires_in},
                secret=secret, jti=stored.jti,
            )
            stored.save(update_fields=["revoked_at", "replaced_by", "sealed_successor", "updated_at"])
            return tokens
    # Raised after the commit, so the family's revocation and its audit entry stay.
    raise TokenRevoked("The refresh token was reused.")


def _successor_within_grace(stored: RefreshToken, secret: str) -> SessionTokens | None:
    """The pair `stored` was rotated into, when it was rotated within the grace window and that
    pair is still the family's live one; None otherwise (reuse). A successor that was rotated in
    turn, or revoked (logout, a password change), is never handed out again."""
    now = timezone.now()
    if not stored.sealed_successor or now - stored.revoked_at > timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS):
        return None
    successor = RefreshToken.objects.filter(tenant_id=stored.tenant_id, jti=stored.replaced_by).first()
    if successor is None or successor.revoked_at is not None or successor.expires_at <= now:
        return None
    pair = open_successor(stored.sealed_successor, secret=secret, jti=stored.jti)
    if pair is None:
        return None
    _ensure_can_sign_in(stored.user)
    elapsed = int((now - stored.revoked_at).total_seconds())
    return SessionTokens(pair["access_token"], pair["refresh_token"], max(0, pair["expires_in"] - elapsed))


def logout(*, principal, refresh_token: str | None) -> None:
    """End the caller's session, and that of `refresh_token` if it is the caller's: their refresh
    tokens revoked, their access tokens refused from now on.

    Fail-closed: when the cache cannot be told, nothing is revoked and the answer is 503
    (identity/live_sessions.py)."""
    sessions = [principal.claims["sid"]]
    if refresh_token:
        jti, secret = _parse_refresh_token(refresh_token)
        sessions += RefreshToken.objects.for_tenant(principal.tenant).filter(
            jti=jti, user=principal.user, token_hash=_sha256(secret)
        ).values_list("family", flat=True)
    with transaction.atomic():
        end_sessions(principal.tenant.pk, sessions, confirm=True)
        announce_ended_sessions(tenant=principal.tenant, user_id=principal.user.pk, families=sessions)
        record(
            tenant=principal.tenant,
            action="auth.logout",
            entity_type="user",
            entity_id=principal.user.pk,
            actor=principal.actor,
        )


def check_credential_change(*, user, actor, values: dict, current_password: str | None) -> bool:
    """Whether `values` change `user`'s own credentials (their e-mail, their login, or their
    password), with the current password checked if so, and the new password validated. Nobody
    sets another user's password: an administrator reissues an invitation instead."""
    own = actor.user is not None and actor.user.pk == user.pk
    if "password" in values and not own:
        raise Unprocessable("Only the user sets their password; reissue an invitation instead.",
                            details={"password": ["Only the user themself may set it."]})
    own_credentials = own and ("password" in values or values.get("email", user.email) != user.email)
    if own_credentials:
        if not current_password:
            # 422, not 400: the body is schema-valid (the field is optional there: only the path's
            # id, when it is the caller's, makes it required), and the schema is the promise.
            raise Unprocessable("Your current password is required to change your own email or password.",
                                details={"currentPassword": ["Required to change your own email or password."]})
        _verify_current_password(user=user, password=current_password)
    if "password" in values:
        try:
            validate_password(values["password"], user)
        except ValidationError as exc:
            raise Unprocessable(details={"password": exc.messages}) from exc
    return own_credentials


def _verify_current_password(*, user, password: str) -> None:
    """Proof that the caller knows `user`'s password, before a change of their own credentials.

    A wrong password is 422 UNPROCESSABLE (details.currentPassword), not a 401: the caller's token
    is fine, and a client must not take the answer for a logout. Failures are limited like logins,
    per user (LOGIN_ATTEMPTS_LIMIT per LOGIN_ATTEMPTS_WINDOW_SECONDS), since whoever tries holds a
    valid token and may come from any address; each one is audited."""
    attempt_key = f"reauth:{user.pk}"
    attempt = _attempt(attempt_key)
    if not attempt.allowed:
        _record_failed_reauthentication(user, "rate_limited")
        raise RateLimited(attempt.retry_after, "Too many wrong passwords; try again later.")
    if not user.check_password(password):
        _record_failed_reauthentication(user, "wrong_password")
        raise Unprocessable("The current password is not correct.",
                            details={"currentPassword": ["The current password is not correct."]})
    _succeeded(attempt_key)


def _record_failed_reauthentication(user, reason: str) -> None:
    with transaction.atomic():
        record(tenant=user.tenant, action="auth.reauthentication.failed", entity_type="user", entity_id=user.pk,
               actor=Actor.for_user(user), metadata={"reason": reason})


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
        tools=entitled_tools(api_key.tenant),
        scopes=list(api_key.scopes),
        extra_claims={"profile": api_key.profile} if api_key.profile else None,
    )
