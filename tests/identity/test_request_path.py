"""The authenticated request's hot path: the principal cached, else read in one compiled query after
the cache's one round trip, and a verified token remembered only while it stays valid (that there is
one round trip: tests/api/test_query_budgets.py; the cached row: tests/identity/test_principal_rows.py)."""

import socket
import time
import weakref
from datetime import timedelta

import jwt
import pytest
import redis
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import OperationalError, connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from audit.services import SYSTEM
from core.cache.reads import CacheReads
from core.db import lookup
from core.db.lookup import RowLookup
from identity import authentication
from identity.models import ApiKey, ApiKeyStatus, User
from identity.services import create_api_key, set_api_key_status, update_user
from tests.factories import TenantFactory
from tests.identity.conftest import session_token

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
    token = session_token(user)
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


@pytest.fixture
def redis_cache():
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the cache here is not Redis: its reads are made, not sent ahead")
    return caches["default"]


def _pool(redis_cache):
    return redis_cache._cache.get_client(write=True).connection_pool


def _recorded_round_trips(monkeypatch):
    """Redis sends and answers, and SQL statements, in the order they happen."""
    events = []
    Connection = redis.connection.Connection
    pack_commands, send_command, read_response = Connection.pack_commands, Connection.send_command, Connection.read_response

    def packed(connection_, commands):
        events.append("redis: sent " + " ".join(command[0] for command in commands))
        return pack_commands(connection_, commands)

    def sent(connection_, *args, **kwargs):
        events.append(f"redis: sent {args[0]}")
        return send_command(connection_, *args, **kwargs)

    def read(connection_, *args, **kwargs):
        events.append("redis: answer read")
        return read_response(connection_, *args, **kwargs)

    monkeypatch.setattr(Connection, "pack_commands", packed)
    monkeypatch.setattr(Connection, "send_command", sent)
    monkeypatch.setattr(Connection, "read_response", read)
    return events


def _sql_recorded(events):
    def executed(execute, sql, params, many, context):
        events.append(f"sql: {sql.split()[0]}")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(executed)


@pytest.mark.parametrize("credential", ["jwt", "api_key"])
def test_a_cached_principal_costs_one_cache_round_trip_and_no_query(api, whoami_urls, tokens, tenant, redis_cache,
                                                                    monkeypatch, credential):
    token = tokens["accessToken"] if credential == "jwt" else create_api_key(tenant=tenant, name="ci", profile="read-only").key
    for _ in range(2):  # an API key's owner is learned by the first, its row cached by the second
        assert api.get("/v1/test/whoami", token=token).status_code == 200
    events = _recorded_round_trips(monkeypatch)
    with _sql_recorded(events):
        assert api.get("/v1/test/whoami", token=token).status_code == 200
    assert events == ["redis: sent MGET INCRBY EXPIRE", "redis: answer read", "redis: answer read", "redis: answer read"]
    assert not _pool(redis_cache)._in_use_connections


def test_a_changed_principal_row_is_read_after_the_versions_and_cached_again(api, whoami_urls, tokens, user,
                                                                              redis_cache, monkeypatch):
    token = tokens["accessToken"]
    assert api.get("/v1/test/whoami", token=token).status_code == 200
    update_user(user=user, name="Ana Maria", actor=SYSTEM)
    events = _recorded_round_trips(monkeypatch)
    with _sql_recorded(events):
        assert api.get("/v1/test/whoami", token=token).status_code == 200
    # Stored under versions read before the row was: a write committed between the two would not
    # leave the old row cached under its new version.
    assert events == ["redis: sent MGET INCRBY EXPIRE", "redis: answer read", "redis: answer read",
                      "redis: answer read", "sql: EXECUTE", "redis: sent SET", "redis: answer read"]


def test_a_failed_lookup_still_reads_the_answers_in_flight(api, whoami_urls, tokens, redis_cache, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": 2}
    token = tokens["accessToken"]

    def database_gone(execute, sql, params, many, context):
        raise OperationalError("the database went away")

    with connection.execute_wrapper(database_gone):
        assert api.get("/v1/test/whoami", token=token).status_code == 503  # a lost database: retry
    assert not _pool(redis_cache)._in_use_connections
    # The connection went back to the pool with nothing left unread: the next request reads its own
    # answers — its count is the second of the window, the third is refused.
    assert api.get("/v1/test/whoami", token=token).status_code == 200
    assert api.get("/v1/test/whoami", token=token).status_code == 429


def test_answers_lost_in_flight_are_asked_for_again(redis_cache):
    cache.set("in-flight-entry", {"kept": True})
    reads = CacheReads(["in-flight-entry", "absent-entry"], counters={"rl:in-flight-test:1": 60})
    reads._in_flight._connection._sock.shutdown(socket.SHUT_RDWR)  # e.g. Redis restarted under the request
    assert reads.get("in-flight-entry") == {"kept": True} and reads.get("absent-entry") is None
    # Sent twice, as redis-py's own retry of a pipeline would: the counter may have counted twice.
    assert reads.counts["rl:in-flight-test:1"] in (1, 2)
    assert not _pool(redis_cache)._in_use_connections


def test_a_refused_api_key_is_forgotten_and_refused_again(api, whoami_urls, tenant):
    created = create_api_key(tenant=tenant, name="ci", profile="read-only")
    assert api.get("/v1/test/whoami", token=created.key).status_code == 200
    assert authentication._key_owners.get(created.key).pk == created.api_key.pk
    set_api_key_status(api_key=created.api_key, status=ApiKeyStatus.REVOKED)
    assert error_code(api.get("/v1/test/whoami", token=created.key)) == "TOKEN_REVOKED"
    assert authentication._key_owners.get(created.key) is None
    assert error_code(api.get("/v1/test/whoami", token=created.key)) == "TOKEN_REVOKED"


def test_a_connection_holds_a_bounded_number_of_prepared_statements(tenant, user, monkeypatch):
    monkeypatch.setattr(lookup, "PREPARED_PER_CONNECTION", 2)
    monkeypatch.setattr(lookup, "_prepared_on", weakref.WeakKeyDictionary())  # as on a new connection
    lookups = [RowLookup(User, join="tenant", filters=("pk", "tenant_id")) for _ in range(3)]
    with CaptureQueriesContext(connection) as captured:
        for each in lookups:
            assert each.get(pk=user.pk, tenant_id=tenant.pk) == user
    # Two prepared; the third, past the bound, runs as plain SQL (and still answers).
    assert [query["sql"].split()[0] for query in captured.captured_queries] == [
        "PREPARE", "EXECUTE", "PREPARE", "EXECUTE", "SELECT"]
