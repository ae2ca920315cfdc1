"""Issue 26: a retried refresh gets the same pair back; a logged-out access token stays refused
whatever happens to the cache, and logout fails closed when the cache cannot be told."""

import socket
from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditLog
from core.api.exceptions import ServiceUnavailable
from identity import sessions
from identity.authentication import HubAuthentication
from identity.models import RefreshToken
from identity.services import create_user
from tests.concurrency import run_concurrently
from tests.factories import TenantFactory
from tests.identity.conftest import PASSWORD, Api

pytestmark = pytest.mark.django_db


def code(response):
    return response.json()["error"]["code"]


def refresh(api, token):
    return api.post("/v1/auth/refresh", {"refreshToken": token})


def family_of(token: str):
    return RefreshToken.objects.get(jti=token.partition(".")[0]).family


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_of_one_token_get_the_same_pair_and_the_session_lives(seeded):
    tenant = TenantFactory(slug="flaky")
    create_user(tenant=tenant, email="ana@flaky.com", password=PASSWORD)
    first = sessions.login(tenant_slug="flaky", email="ana@flaky.com", password=PASSWORD, ip="127.0.0.1")

    def retried_refresh():
        return Api(Client()).post("/v1/auth/refresh", {"refreshToken": first.refresh_token})

    outcomes = run_concurrently(retried_refresh, 2)
    assert [response.status_code for response in outcomes] == [200, 200], outcomes
    pairs = [response.json()["data"] for response in outcomes]
    assert pairs[0]["accessToken"] == pairs[1]["accessToken"]
    assert pairs[0]["refreshToken"] == pairs[1]["refreshToken"] != first.refresh_token
    assert not AuditLog.objects.filter(action="auth.refresh.reuse_detected").exists()
    live = RefreshToken.objects.filter(family=family_of(first.refresh_token), revoked_at__isnull=True)
    assert [jti.hex for jti in live.values_list("jti", flat=True)] == [pairs[0]["refreshToken"][:32]]
    api = Api(Client())
    assert api.get("/v1/me", token=pairs[0]["accessToken"]).status_code == 200
    assert refresh(api, pairs[0]["refreshToken"]).status_code == 200


def test_a_retry_after_the_grace_window_is_reuse(api, tokens, user):
    successor = refresh(api, tokens["refreshToken"]).json()["data"]
    RefreshToken.objects.filter(jti=tokens["refreshToken"][:32]).update(
        revoked_at=timezone.now() - timedelta(seconds=11))
    reuse = refresh(api, tokens["refreshToken"])
    assert reuse.status_code == 401 and code(reuse) == "TOKEN_REVOKED"
    entry = AuditLog.objects.get(action="auth.refresh.reuse_detected")
    assert entry.entity_id == str(user.pk) and entry.metadata["revokedTokens"] == 1
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    # The family's session is over: its newest access token too, not only its refresh token.
    assert code(api.get("/v1/me", token=successor["accessToken"])) == "TOKEN_REVOKED"
    assert code(refresh(api, successor["refreshToken"])) == "TOKEN_REVOKED"


def test_a_retry_within_the_window_gets_the_same_pair_with_what_is_left_of_its_lifetime(api, tokens):
    successor = refresh(api, tokens["refreshToken"]).json()["data"]
    RefreshToken.objects.filter(jti=tokens["refreshToken"][:32]).update(
        revoked_at=timezone.now() - timedelta(seconds=4))
    again = refresh(api, tokens["refreshToken"])
    assert again.status_code == 200
    retried = again.json()["data"]
    assert (retried["accessToken"], retried["refreshToken"]) == (successor["accessToken"], successor["refreshToken"])
    assert successor["expiresIn"] - 5 <= retried["expiresIn"] <= successor["expiresIn"] - 4
    assert not AuditLog.objects.filter(action="auth.refresh.reuse_detected").exists()


@pytest.mark.parametrize("spent", ["rotated", "logged_out"])
def test_a_retry_within_the_window_never_resurrects_a_spent_successor(api, tokens, user, spent):
    successor = refresh(api, tokens["refreshToken"]).json()["data"]
    if spent == "rotated":
        assert refresh(api, successor["refreshToken"]).status_code == 200
    else:
        assert api.post("/v1/auth/logout", {}, token=successor["accessToken"]).status_code == 204
    retry = refresh(api, tokens["refreshToken"])
    assert retry.status_code == 401 and code(retry) == "TOKEN_REVOKED"
    assert AuditLog.objects.filter(action="auth.refresh.reuse_detected").count() == 1
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_the_successor_is_stored_sealed_and_opens_only_with_the_old_secret(api, tokens):
    successor = refresh(api, tokens["refreshToken"]).json()["data"]
    row = RefreshToken.objects.get(jti=tokens["refreshToken"][:32])
    sealed = bytes(row.sealed_successor)
    for secret in (successor["accessToken"], successor["refreshToken"], successor["refreshToken"].partition(".")[2]):
        assert secret.encode() not in sealed
    # The jti alone, or the stored digest, is not the secret: the retry must present the token itself.
    forged = f"{row.jti.hex}.{row.token_hash}"
    assert code(refresh(api, forged)) == "INVALID_TOKEN"


def test_a_logged_out_token_stays_refused_after_the_cache_is_emptied(api, tokens, whoami_urls):
    access = tokens["accessToken"]
    assert api.get("/v1/test/whoami", token=access).status_code == 200
    assert api.post("/v1/auth/logout", {}, token=access).status_code == 204
    cache.clear()  # the test's own cache: Redis db 9, or the database cache table in this transaction
    refused = api.get("/v1/test/whoami", token=access)
    assert refused.status_code == 401 and code(refused) == "TOKEN_REVOKED"
    # The refresh token of the session ended with it, though logout was not given it.
    assert code(refresh(api, tokens["refreshToken"])) == "TOKEN_REVOKED"


def test_with_the_cache_emptied_a_live_token_passes_on_one_query_then_none(api, tokens, whoami_urls):
    access = tokens["accessToken"]
    for _ in range(2):
        assert api.get("/v1/test/whoami", token=access).status_code == 200
    cache.clear()
    assert api.get("/v1/test/whoami", token=access).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert api.get("/v1/test/whoami", token=access).status_code == 200
    assert not [query for query in warm.captured_queries if "refresh_token" in query["sql"]]


def test_logout_ends_only_its_own_session(api, tokens, user, tenant, whoami_urls):
    other = api.login(tenant, user.email).json()["data"]
    assert api.post("/v1/auth/logout", {}, token=tokens["accessToken"]).status_code == 204
    assert api.get("/v1/test/whoami", token=other["accessToken"]).status_code == 200
    assert refresh(api, other["refreshToken"]).status_code == 200


def test_logout_with_another_sessions_refresh_token_ends_that_session_too(api, tokens, user, tenant, whoami_urls):
    other = api.login(tenant, user.email).json()["data"]
    third = api.login(tenant, user.email).json()["data"]
    logout = api.post("/v1/auth/logout", {"refreshToken": other["refreshToken"]}, token=tokens["accessToken"])
    assert logout.status_code == 204
    for ended in (tokens, other):
        assert code(api.get("/v1/test/whoami", token=ended["accessToken"])) == "TOKEN_REVOKED"
    assert api.get("/v1/test/whoami", token=third["accessToken"]).status_code == 200


def _unreachable_redis() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/9"  # nothing listens there once the probe is closed


def test_logout_fails_closed_when_the_cache_cannot_be_told(api, tokens, whoami_urls, settings, rf):
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the cache here is a database table: reachable whenever the database is")
    request = rf.get("/v1/test/whoami", HTTP_AUTHORIZATION=f"Bearer {tokens['accessToken']}")
    request._request = request
    principal, _ = HubAuthentication().authenticate(request)
    principal.cache_reads.receive()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": _unreachable_redis()}}
    with pytest.raises(ServiceUnavailable) as refused:
        sessions.logout(principal=principal, refresh_token=tokens["refreshToken"])
    assert int(refused.value.headers["Retry-After"]) > 0
    # Nothing was revoked or recorded: the client was not told it logged out, and may retry.
    assert RefreshToken.objects.filter(jti=tokens["refreshToken"][:32], revoked_at__isnull=True).exists()
    assert not AuditLog.objects.filter(action="auth.logout").exists()
