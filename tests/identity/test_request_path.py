"""The authenticated request's hot path: the principal in one compiled query, and a verified token
remembered only while it stays valid (the cache's one round trip: tests/api/test_query_budgets.py)."""

import time
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from config.db.lookup import RowLookup
from identity.models import ApiKey, User
from identity.services import create_api_key
from identity.tokens import issue_access_token
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def error_code(response):
    return response.json()["error"]["code"]


def _columns(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_the_compiled_lookup_builds_what_the_orm_builds(tenant, user):
    lookup = RowLookup(User, join="tenant", filters=("pk", "tenant_id"))
    with CaptureQueriesContext(connection) as first:
        lookup.get(pk=user.pk, tenant_id=tenant.pk)
    with CaptureQueriesContext(connection) as captured:
        found = lookup.get(pk=user.pk, tenant_id=tenant.pk)
        slug = found.tenant.slug  # joined, not fetched again
    # Prepared once per database connection, then only executed.
    assert [query["sql"].split()[0] for query in first.captured_queries] == ["PREPARE", "EXECUTE"]
    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["EXECUTE"]
    assert slug == tenant.slug
    expected = User.objects.select_related("tenant").get(pk=user.pk)
    assert _columns(found) == _columns(expected) and _columns(found.tenant) == _columns(expected.tenant)
    assert not found._state.adding and found._state.db == "default"
    # The same lookup, compiled once, answers for other values too.
    assert lookup.get(pk=user.pk, tenant_id=TenantFactory(slug="other").pk) is None
    assert lookup.get(pk=tenant.pk, tenant_id=tenant.pk) is None


def test_behind_a_transaction_pooler_the_lookup_is_not_prepared(tenant, user, settings):
    settings.DATABASE_POOLED = True
    lookup = RowLookup(User, join="tenant", filters=("pk", "tenant_id"))
    with CaptureQueriesContext(connection) as captured:
        assert lookup.get(pk=user.pk, tenant_id=tenant.pk) == user
        assert lookup.get(pk=user.pk, tenant_id=tenant.pk) == user
    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["SELECT", "SELECT"]


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again(tenant, user):
    lookup = RowLookup(User, join="tenant", filters=("pk", "tenant_id"))
    assert lookup.get(pk=user.pk, tenant_id=tenant.pk) == user
    connection.close()  # the server session, and the statements prepared on it, are gone
    assert lookup.get(pk=user.pk, tenant_id=tenant.pk) == user


def test_the_compiled_lookup_converts_array_columns_and_nulls(tenant):
    created = create_api_key(tenant=tenant, name="scoped", scopes=["users.read"], allowed_networks=["10.0.0.0/8"])
    lookup = RowLookup(ApiKey, join="tenant", filters=("prefix",))
    found = lookup.get(prefix=created.api_key.prefix)
    expected = ApiKey.objects.select_related("tenant").get(pk=created.api_key.pk)
    assert model_to_dict(found) == model_to_dict(expected)
    assert found.scopes == ["users.read"] and found.allowed_networks == ["10.0.0.0/8"] and found.expires_at is None
    assert lookup.get(prefix="nosuchprefix") is None


def test_a_remembered_token_is_refused_once_it_expires(api, whoami_urls, user, tenant, settings):
    settings.ACCESS_TOKEN_LIFETIME = timedelta(seconds=2)
    token = issue_access_token(subject=user.pk, tenant_id=tenant.pk, token_type="user").token
    assert api.get("/v1/test/whoami", token=token).status_code == 200  # verified, and remembered
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    response = api.get("/v1/test/whoami", token=token)
    assert response.status_code == 401 and error_code(response) == "TOKEN_EXPIRED"


def test_a_token_revoked_after_it_was_remembered_is_refused(api, whoami_urls, tokens):
    token = tokens["accessToken"]
    assert api.get("/v1/test/whoami", token=token).status_code == 200
    assert api.post("/v1/auth/logout", {"refreshToken": tokens["refreshToken"]}, token=token).status_code == 204
    assert error_code(api.get("/v1/test/whoami", token=token)) == "TOKEN_REVOKED"
