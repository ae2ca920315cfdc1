"""Refresh rotation and reuse detection, logout, invitations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditLog
from identity.models import Invitation, RefreshToken
from identity.services import create_user
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code(response):
    return response.json()["error"]["code"]


def refresh(api, token):
    return api.post("/v1/auth/refresh", {"refreshToken": token})


def test_refresh_rotates_the_pair(api, tokens, whoami_urls, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0  # no retry window: the spent token is refused at once
    response = refresh(api, tokens["refreshToken"])
    assert response.status_code == 200
    rotated = response.json()["data"]
    assert rotated["refreshToken"] != tokens["refreshToken"] and rotated["accessToken"] != tokens["accessToken"]
    assert api.get("/v1/test/whoami", token=rotated["accessToken"]).status_code == 200
    assert code(refresh(api, tokens["refreshToken"])) == "TOKEN_REVOKED"


def test_reuse_of_a_rotated_token_revokes_the_whole_family_and_is_audited(api, tokens, user):
    first = tokens["refreshToken"]
    second = refresh(api, first).json()["data"]["refreshToken"]
    third = refresh(api, second).json()["data"]["refreshToken"]
    reuse = refresh(api, first)
    assert reuse.status_code == 401 and code(reuse) == "TOKEN_REVOKED"
    # The newest token of the family, held by whoever rotated last, is dead too.
    assert code(refresh(api, third)) == "TOKEN_REVOKED"
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    entry = AuditLog.objects.get(action="auth.refresh.reuse_detected")
    assert entry.entity_id == str(user.pk) and entry.metadata["revokedTokens"] == 1
    assert entry.metadata["requestId"] == reuse["X-Request-Id"]


def test_another_login_is_another_family(api, tokens, user, tenant, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    other = api.login(tenant, user.email).json()["data"]["refreshToken"]
    refresh(api, tokens["refreshToken"])
    refresh(api, tokens["refreshToken"])  # reuse in the first family
    assert refresh(api, other).status_code == 200


def test_refresh_tokens_are_stored_hashed(tokens):
    jti_hex, _, secret = tokens["refreshToken"].partition(".")
    stored = RefreshToken.objects.get(jti=jti_hex)
    assert secret not in stored.token_hash and len(stored.token_hash) == 64
    assert (stored.expires_at - stored.created_at) == timedelta(days=14) or abs(
        (stored.expires_at - stored.created_at) - timedelta(days=14)
    ) < timedelta(seconds=5)


def test_expired_garbage_and_suspended_refreshes(api, tokens, user):
    assert code(refresh(api, "not-a-token")) == "INVALID_TOKEN"
    jti_hex, _, secret = tokens["refreshToken"].partition(".")
    assert code(refresh(api, f"{jti_hex}.{secret[:-1]}x")) == "INVALID_TOKEN"
    user.status = "suspended"
    user.save()
    assert code(refresh(api, tokens["refreshToken"])) == "ACCOUNT_SUSPENDED"
    user.status = "active"
    user.save()
    RefreshToken.objects.filter(jti=jti_hex).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert code(refresh(api, tokens["refreshToken"])) == "TOKEN_EXPIRED"


def test_logout_revokes_the_refresh_token_and_the_access_token(api, tokens, whoami_urls, user):
    access = tokens["accessToken"]
    assert api.get("/v1/test/whoami", token=access).status_code == 200
    response = api.post("/v1/auth/logout", {"refreshToken": tokens["refreshToken"]}, token=access)
    assert response.status_code == 204 and response.content == b""
    revoked = api.get("/v1/test/whoami", token=access)
    assert revoked.status_code == 401 and code(revoked) == "TOKEN_REVOKED"
    assert code(refresh(api, tokens["refreshToken"])) == "TOKEN_REVOKED"
    assert AuditLog.objects.filter(action="auth.logout", entity_id=str(user.pk)).count() == 1


def test_logout_cannot_revoke_someone_elses_refresh_token(api, tokens, tenant):
    create_user(tenant=tenant, email="bob@acme.com", password=PASSWORD)
    bob = api.login(tenant, "bob@acme.com").json()["data"]
    api.post("/v1/auth/logout", {"refreshToken": tokens["refreshToken"]}, token=bob["accessToken"])
    assert refresh(api, tokens["refreshToken"]).status_code == 200


def test_user_created_without_password_accepts_an_invitation_once(api, tenant):
    created = create_user(tenant=tenant, email="new@acme.com", name="New")
    invitation = created.invitation
    assert invitation.token and invitation.expires_at > timezone.now()
    assert not created.user.has_usable_password()
    stored = Invitation.objects.get(user=created.user)
    assert invitation.token not in stored.token_hash
    assert api.login(tenant, "new@acme.com", "anything at all").status_code == 401
    weak = api.post("/v1/auth/invitations/accept", {"token": invitation.token, "password": "123"})
    assert weak.status_code == 422 and "password" in weak.json()["error"]["details"]
    accepted = api.post("/v1/auth/invitations/accept", {"token": invitation.token, "password": PASSWORD})
    assert accepted.status_code == 200
    assert accepted.json()["data"] == {"id": str(created.user.pk), "email": "new@acme.com", "name": "New"}
    assert api.login(tenant, "new@acme.com").status_code == 200
    again = api.post("/v1/auth/invitations/accept", {"token": invitation.token, "password": "another long one"})
    assert code(again) == "TOKEN_REVOKED"
    assert AuditLog.objects.filter(action="auth.invitation.accepted", entity_id=str(created.user.pk)).count() == 1


def test_expired_and_unknown_invitations(api, tenant):
    created = create_user(tenant=tenant, email="late@acme.com")
    Invitation.objects.filter(user=created.user).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert code(api.post("/v1/auth/invitations/accept", {"token": created.invitation.token, "password": PASSWORD})) == "TOKEN_EXPIRED"
    assert code(api.post("/v1/auth/invitations/accept", {"token": "made-up", "password": PASSWORD})) == "INVALID_TOKEN"
