"""The principal's row cached between requests (identity/principal_rows.py): in the steady state an
authenticated request reads no row, and every way the row of a user, an API key or their tenant
changes is seen by the very next request."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.services import SYSTEM
from core.cache.reads import CacheReads
from core.cache.versions import bump_principal_row, principal_row_version_key, tenant_row_version_key
from core.db.models import Status
from identity import authentication
from identity.models import ApiKey, ApiKeyStatus, User
from identity.principal_rows import PrincipalRow, cache_keys
from identity.services import (
    create_api_key,
    create_user,
    delete_user,
    rotate_api_key,
    set_api_key_status,
    set_user_status,
    update_user,
)
from identity.tokens import TokenType
from tenancy.models import Tenant
from tenancy.services import set_tenant_status
from tests.api.test_query_budgets import database_queries
from tests.factories import TenantFactory, UserFactory
from tests.identity.conftest import PASSWORD, session_token

pytestmark = pytest.mark.django_db


def whoami(api, token):
    """The response, and the database queries it took besides the cache's own."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/v1/test/whoami", token=token)
    return response, database_queries(captured)


def warm(api, token):
    for _ in range(2):  # an API key's owner is learned by the first request, its row cached by the second
        assert whoami(api, token)[0].status_code == 200
    response, queries = whoami(api, token)
    assert response.status_code == 200 and queries == 0


@pytest.fixture
def key(tenant):
    return create_api_key(tenant=tenant, name="ci", profile="read-only")


@pytest.mark.parametrize("credential", ["jwt", "api_key"])
def test_a_cached_principal_reads_no_row_until_its_row_changes(api, whoami_urls, tokens, key, credential):
    token = tokens["accessToken"] if credential == "jwt" else key.key
    warm(api, token)
    if credential == "jwt":
        update_user(user=User.objects.get(email="ana@acme.com"), name="Ana Maria", actor=SYSTEM)
    else:
        ApiKey.objects.filter(pk=key.api_key.pk).update(name="renamed")
    response, queries = whoami(api, token)
    assert response.status_code == 200 and queries == 1  # read again, and cached again
    assert whoami(api, token)[1] == 0


def _suspend_user_by_service(user, tenant):
    set_user_status(user=user, status=Status.SUSPENDED, reason="test", actor=SYSTEM)


def _suspend_user_in_bulk(user, tenant):
    User.objects.filter(pk=user.pk).update(status=Status.SUSPENDED)


def _delete_user(user, tenant):
    delete_user(user=user, actor=SYSTEM)


def _suspend_tenant_by_service(user, tenant):
    set_tenant_status(tenant=tenant, status=Status.SUSPENDED, reason="unpaid", actor=SYSTEM)


def _suspend_tenant_in_bulk(user, tenant):
    Tenant.objects.filter(pk=tenant.pk).update(status=Status.SUSPENDED)


@pytest.mark.parametrize(("change", "status", "code"), [
    (_suspend_user_by_service, 403, "ACCOUNT_SUSPENDED"),
    (_suspend_user_in_bulk, 403, "ACCOUNT_SUSPENDED"),
    (_delete_user, 403, "ACCOUNT_SUSPENDED"),
    (_suspend_tenant_by_service, 403, "TENANT_SUSPENDED"),
    (_suspend_tenant_in_bulk, 403, "TENANT_SUSPENDED"),
])
def test_a_user_token_is_refused_on_the_request_after_the_change(api, whoami_urls, tokens, user, tenant, change, status,
                                                                 code):
    warm(api, tokens["accessToken"])
    change(user, tenant)
    response, _ = whoami(api, tokens["accessToken"])
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_a_hard_deleted_user_is_refused(api, whoami_urls, tenant):
    user = UserFactory(tenant=tenant)  # one no audit entry names as its actor, so it can go
    token = session_token(user)
    warm(api, token)
    User.objects.filter(pk=user.pk).delete()
    response, _ = whoami(api, token)
    assert response.status_code == 401 and response.json()["error"]["code"] == "INVALID_TOKEN"


def _revoke(key):
    set_api_key_status(api_key=key.api_key, status=ApiKeyStatus.REVOKED)


def _expire_in_bulk(key):
    ApiKey.objects.filter(pk=key.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _rotate(key):
    rotate_api_key(api_key=key.api_key)


@pytest.mark.parametrize(("change", "code"), [
    (_revoke, "TOKEN_REVOKED"), (_expire_in_bulk, "TOKEN_EXPIRED"), (_rotate, "INVALID_TOKEN"),
])
def test_an_api_key_is_refused_on_the_request_after_the_change(api, whoami_urls, key, change, code):
    warm(api, key.key)
    change(key)
    response, _ = whoami(api, key.key)
    assert response.status_code in (401, 403) and response.json()["error"]["code"] == code


def test_me_shows_the_renamed_user_and_tenant_at_once(api, tokens, user, tenant):
    def me():
        body = api.get("/v1/me", token=tokens["accessToken"]).json()["data"]
        return body["principal"]["name"], body["tenant"]["name"]

    assert me() == ("Ana", tenant.name)
    update_user(user=user, name="Ana Maria", actor=SYSTEM)
    assert me() == ("Ana Maria", tenant.name)
    tenant.name = "Acme Holdings"
    tenant.save()
    assert me() == ("Ana Maria", "Acme Holdings")


def test_the_password_hash_never_reaches_the_cache(api, whoami_urls, tokens, user, tenant):
    warm(api, tokens["accessToken"])
    entry_key = cache_keys(tenant.pk, TokenType.USER, user.pk)[0]
    versions, (own, joined) = cache.get(entry_key)
    assert "password" not in own and own["email"] == user.email and joined["slug"] == tenant.slug
    restored = authentication._SUBJECTS[User].restore((own, joined))
    assert restored.check_password("correct horse battery staple")  # deferred: loaded when asked for


@pytest.mark.parametrize("lost", ["tenant", "principal"])
def test_a_version_the_cache_lost_is_never_trusted(api, whoami_urls, tokens, user, tenant, lost):
    warm(api, tokens["accessToken"])
    key = tenant_row_version_key(tenant.pk) if lost == "tenant" else principal_row_version_key(TokenType.USER, user.pk)
    cache.delete(key)
    assert whoami(api, tokens["accessToken"])[1] == 1
    assert cache.get(key) is not None  # started again, at random, before the row was read
    assert whoami(api, tokens["accessToken"])[1] == 0


def test_a_row_is_stored_under_the_versions_read_before_it(tenant, user):
    """A request that read the row while a writer's transaction was still open (the writer bumping
    again after its commit) must not leave that row cached under the version after the commit."""
    keys = cache_keys(tenant.pk, TokenType.USER, user.pk)
    cache.set(keys[1], 7, timeout=None)
    cache.set(keys[2], 11, timeout=None)
    row = PrincipalRow(authentication._SUBJECTS[User], CacheReads(keys), tenant.pk, TokenType.USER, user.pk)
    bump_principal_row(TokenType.USER, user.pk)  # the writer's bump after its commit
    assert row.fetch(pk=user.pk, tenant_id=tenant.pk) == user
    assert cache.get(keys[0])[0] == (7, 11)
    later = PrincipalRow(authentication._SUBJECTS[User], CacheReads(keys), tenant.pk, TokenType.USER, user.pk)
    assert later.cached() is None


def test_a_bulk_update_bumps_every_tenant_it_touches(tenant, user):
    other = TenantFactory(slug="globex")
    create_api_key(tenant=tenant, name="a", profile="read-only")
    create_api_key(tenant=other, name="b", profile="read-only")
    for each in (tenant, other):
        cache.set(tenant_row_version_key(each.pk), 1, timeout=None)
    ApiKey.objects.filter(name__in=["a", "b"]).update(name="renamed")
    assert all(cache.get(tenant_row_version_key(each.pk)) not in (1, None) for each in (tenant, other))
    assert cache.get(tenant_row_version_key(TenantFactory(slug="initech").pk)) is None  # untouched


def test_with_no_cache_time_every_request_reads_the_row(api, whoami_urls, tokens, settings):
    settings.PRINCIPAL_CACHE_SECONDS = 0
    assert whoami(api, tokens["accessToken"])[0].status_code == 200  # the lookup is prepared on the connection
    for _ in range(3):
        response, queries = whoami(api, tokens["accessToken"])
        # The row, and whether the token's session is alive (identity/live_sessions.py).
        assert response.status_code == 200 and queries == 2


def test_recording_a_login_or_a_keys_use_leaves_the_tenants_other_principals_cached(api, whoami_urls, tokens, user,
                                                                                    tenant, key):
    """Each login and each API key's use (once a minute per key) writes its own row: a tenant with
    many of them must not send every other principal back to the database after each one."""
    warm(api, tokens["accessToken"])
    colleague = create_user(tenant=tenant, email="bia@acme.com", name="Bia", password=PASSWORD).user
    assert whoami(api, tokens["accessToken"])[1] == 0
    assert api.login(tenant, colleague.email).status_code == 200
    assert whoami(api, key.key)[0].status_code == 200  # its first use writes last_used_at
    assert ApiKey.objects.get(pk=key.api_key.pk).last_used_at is not None
    assert whoami(api, tokens["accessToken"])[1] == 0
