"""Query budgets: /v1/me and every list use a fixed number of queries, whatever the page size;
and one cache round trip.

The budgets (docs/query-budgets.md) count database queries with Redis as the cache. On the embedded
default the cache itself is a database table, which adds its own reads and writes per request
(permission versions and entry, rate-limit counter), counted separately as CACHE_QUERIES.
"""

import pytest
import redis
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identity.models import Group
from identity.services import create_api_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# What the database cache adds to every authenticated request, warm caches assumed: one read of the
# session's state, the principal's row and its versions, permission versions and entry and tenant
# limits together (core/cache/reads.py),
# and the rate-limit counter (savepoints, advisory lock, read, cull count, existence check, write).
CACHE_QUERIES = 10

# Database queries per request in the steady state, for a user token or an API key: the principal's
# row is cached (identity/principal_rows.py), and so are the groups, packages and branding /v1/me
# shows (with the permissions).
BUDGETS = {
    "/v1/me": 0,
    "/v1/users": 1,  # page
    "/v1/groups": 1,
    "/v1/api-keys": 1,
    "/v1/groups/{group}/permissions": 2,  # group, page
    "/v1/groups/{group}/users": 2,  # group, page
}

# A product credential's request, warm: its row (with its tool) and the tenant X-Tenant-Id names are
# cached (identity/principal_rows.py).
PRODUCT_REQUEST_QUERIES = 0

_CACHE_PLUMBING = ("hub_cache", "SAVEPOINT", "pg_advisory_xact_lock")


def database_queries(captured) -> int:
    return sum(1 for query in captured.captured_queries if not any(mark in query["sql"] for mark in _CACHE_PLUMBING))


def count(api, token, path):
    for _ in range(2):  # warm the caches (an API key's row once its owner is known): budgets are for the steady state
        api.get(path, token=token)
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, token=token)
    assert response.status_code == 200, response.content
    return database_queries(captured), len(captured.captured_queries)


@pytest.mark.parametrize("route", list(BUDGETS))
@pytest.mark.parametrize("credential", ["jwt", "api_key"])
def test_queries_do_not_grow_with_the_page(api, world, route, credential):
    for _ in range(60):
        UserFactory(tenant=world.tenant)
    for index in range(60):
        create_api_key(tenant=world.tenant, name=f"k{index}", profile="read-only")
    token = world.admin_token if credential == "jwt" else create_api_key(tenant=world.tenant, name="reader", profile="admin").key
    path = route.format(group=Group.objects.get(tenant=world.tenant, name="ADM_CLIENTE").pk)
    # /v1/me is no list: it takes no limit (an unknown query parameter is a 400), and is measured as is.
    small, large = (f"{path}?limit=1", f"{path}?limit=50") if route != "/v1/me" else (path, path)
    small_db, small_all = count(api, token, small)
    large_db, large_all = count(api, token, large)
    assert small_db == large_db and small_all == large_all
    assert large_db == BUDGETS[route]
    if isinstance(caches["default"], DatabaseCache):
        assert large_all - large_db == CACHE_QUERIES


def test_me_shows_group_package_and_branding_changes_on_the_next_request(api, world):
    """Groups and packages ride in the cached access entry: every change that alters them must reach
    /v1/me at once, warm cache or not."""
    from audit.services import SYSTEM
    from branding.services import replace_branding
    from catalog.models import Package
    from identity.onboarding import assign_package
    from identity.services import add_member, create_group, update_group
    from tenancy.services import unassign_package

    def me():
        body = api.get("/v1/me", token=world.admin_token).json()["data"]
        return {group["name"] for group in body["groups"]}, {package["key"] for package in body["packages"]}

    def branding():
        return api.get("/v1/me", token=world.admin_token).json()["data"]["branding"]

    groups, packages = me()
    assert "ADM_CLIENTE" in groups and packages == {"erp-basic"}
    group = create_group(tenant=world.tenant, name="night-shift", actor=SYSTEM)
    add_member(group=group, user=world.admin, actor=SYSTEM)
    assert "night-shift" in me()[0]
    update_group(group=group, name="day-shift", actor=SYSTEM)
    assert "day-shift" in me()[0] and "night-shift" not in me()[0]
    assign_package(tenant=world.tenant, package_key="gestor-pro", actor=SYSTEM)
    assert me()[1] == {"erp-basic", "gestor-pro"}
    unassign_package(tenant=world.tenant, package=Package.objects.get(key="erp-basic"), actor=SYSTEM)
    assert me()[1] == {"gestor-pro"}
    assert branding() is None
    replace_branding(tenant=world.tenant, logo_url="https://cdn.acme.com/logo.png", primary_color="#112233",
                     secondary_color="#445566", domain=None, actor=SYSTEM)
    assert branding()["primaryColor"] == "#112233"
    replace_branding(tenant=world.tenant, logo_url="https://cdn.acme.com/logo.png", primary_color="#000000",
                     secondary_color="#445566", domain=None, actor=SYSTEM)
    assert branding()["primaryColor"] == "#000000"


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Every round trip to Redis from this process, as the commands written to a connection at once:
    a single command's name, or a list of names for a pipeline (however it was sent)."""
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("counts Redis round trips; the cache here is not Redis")
    trips = []
    send_command, pack_commands = redis.connection.Connection.send_command, redis.connection.Connection.pack_commands

    def counted_command(connection, *args, **options):
        trips.append(args[0])
        return send_command(connection, *args, **options)

    def counted_commands(connection, commands):
        trips.append([command[0] for command in commands])
        return pack_commands(connection, commands)

    monkeypatch.setattr(redis.connection.Connection, "send_command", counted_command)
    monkeypatch.setattr(redis.connection.Connection, "pack_commands", counted_commands)
    return trips


@pytest.mark.parametrize("path", ["/v1/me", "/v1/users?limit=50"])
@pytest.mark.parametrize("credential", ["jwt", "api_key"])
def test_an_authenticated_read_is_one_cache_round_trip(api, world, redis_round_trips, path, credential):
    token = world.admin_token if credential == "jwt" else create_api_key(
        tenant=world.tenant, name="reader", profile="admin").key
    for _ in range(2):  # the principal's row, permission entry and limits get cached (a key's once its owner is known)
        assert api.get(path, token=token).status_code == 200
    redis_round_trips.clear()
    assert api.get(path, token=token).status_code == 200
    assert redis_round_trips == [["MGET", "INCRBY", "EXPIRE"]]



def test_a_write_reads_the_tenant_only_with_the_principal(api, world):
    """The object a write changes was found inside the caller's tenant, whose row authentication
    already joined: services reading `instance.tenant` must not fetch it again."""
    user = UserFactory(tenant=world.tenant)
    assert api.call("PATCH", f"/v1/users/{user.pk}", {"name": "Warm"}, token=world.admin_token).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = api.call("PATCH", f"/v1/users/{user.pk}", {"name": "Renamed"}, token=world.admin_token)
    assert response.status_code == 200, response.content
    assert [query["sql"] for query in captured.captured_queries if 'FROM "tenant"' in query["sql"]] == []


def test_a_users_detail_reads_its_groups_in_one_query(api, world):
    """GET /v1/users/{id}: the user, then its groups, however many it is in."""
    from audit.services import SYSTEM
    from identity.services import add_member, create_group

    user = UserFactory(tenant=world.tenant)
    path = f"/v1/users/{user.pk}"
    assert count(api, world.admin_token, path)[0] == 2
    for index in range(5):
        add_member(group=create_group(tenant=world.tenant, name=f"team-{index}", actor=SYSTEM), user=user, actor=SYSTEM)
    assert count(api, world.admin_token, path)[0] == 2


def test_a_tools_product_credentials_list_in_two_queries(api, staff_token):
    """GET /v1/catalog/tools/{toolKey}/credentials (platform staff): the tool, then the page."""
    from audit.services import SYSTEM
    from catalog.models import Tool
    from identity.product_credentials import issue_product_credential

    for index in range(60):
        issue_product_credential(tool=Tool.objects.get(key="erp"), name=f"backend-{index}", actor=SYSTEM)
    path = "/v1/catalog/tools/erp/credentials"
    assert count(api, staff_token, f"{path}?limit=1")[0] == count(api, staff_token, f"{path}?limit=50")[0] == 2


def test_a_product_request_reads_no_row_warm(api, world, settings, request):
    """A product credential's request: its row (with the tool), the tenant it names and the tenant's
    entitlement to the tool ride in the request's one cache round trip (identity/principal_rows.py,
    identity/product_credentials.py)."""
    from audit.services import SYSTEM
    from catalog.models import Tool
    from identity.product_credentials import issue_product_credential

    settings.ROOT_URLCONF = "tests.identity.product_urls"
    secret = issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp", actor=SYSTEM).secret
    tenant = {"X-Tenant-Id": str(world.tenant.pk)}
    for _ in range(2):
        api.get("/v1/test/product", token=secret, **tenant)
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/v1/test/product", token=secret, **tenant)
    assert response.status_code == 200, response.content
    assert database_queries(captured) == PRODUCT_REQUEST_QUERIES
    if isinstance(caches["default"], RedisCache):
        trips = request.getfixturevalue("redis_round_trips")
        assert api.get("/v1/test/product", token=secret, **tenant).status_code == 200
        assert trips == [["MGET", "INCRBY", "EXPIRE"]]


@pytest.mark.parametrize("versions_lost", [False, True])
@pytest.mark.parametrize("method, route", [("GET", "/v1/authz/subjects/{user}?sessionId={session}"),
                                           ("POST", "/v1/authz/check")])
def test_a_products_decision_is_one_cache_round_trip(api, world, redis_round_trips, method, route, versions_lost):
    """Warm, the decision about the user the route names is read with the credential, the tenant and
    the rate-limit counter (identity/authentication.py, `product_subject`) — also once the cache lost
    the versions it is kept under (a fresh Redis, where nothing has been written yet)."""
    from audit.services import SYSTEM
    from catalog.models import Tool
    from identity.product_credentials import issue_product_credential
    from identity.selectors import subject_cache_keys
    from tests.identity.conftest import session_token

    secret = issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp", actor=SYSTEM).secret
    session_token(world.admin)
    session = world.admin.refresh_tokens.latest("created_at").family
    # Upper case: the route's ids are read case-blind, and so are the entries they name.
    path = route.format(user=str(world.admin.pk).upper(), session=str(session).upper())
    body = {"subject": {"userId": str(world.admin.pk).upper()}, "toolActions": ["erp.sales.read"]}
    tenant = {"X-Tenant-Id": str(world.tenant.pk)}
    if versions_lost:
        cache.delete_many(subject_cache_keys(str(world.tenant.pk), str(Tool.objects.get(key="erp").pk),
                                             str(world.admin.pk))[1:])
    for _ in range(2):
        api.call(method, path, body if method == "POST" else None, token=secret, **tenant)
    redis_round_trips.clear()
    response = api.call(method, path, body if method == "POST" else None, token=secret, **tenant)
    assert response.status_code == 200, response.content
    assert redis_round_trips == [["MGET", "INCRBY", "EXPIRE"]]


@pytest.mark.parametrize("method, route", [("GET", "/v1/authz/subjects/{user}?sessionId={session}"),
                                           ("POST", "/v1/authz/check")])
def test_a_products_decision_costs_no_query_of_its_own(api, world, method, route):
    """Warm, a product's question about a user reads only what every product request reads (its
    credential, the tenant it names): the user's row, permissions, session state and
    the tool's actions are cached (identity/selectors.subject_snapshot)."""
    from audit.services import SYSTEM
    from catalog.models import Tool
    from identity.product_credentials import issue_product_credential
    from tests.identity.conftest import session_token

    secret = issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp", actor=SYSTEM).secret
    session_token(world.admin)
    session = world.admin.refresh_tokens.latest("created_at").family
    path = route.format(user=world.admin.pk, session=session)
    body = {"subject": {"userId": str(world.admin.pk)}, "toolActions": ["erp.sales.read"]} if method == "POST" else None
    tenant = {"X-Tenant-Id": str(world.tenant.pk)}
    for _ in range(2):
        api.call(method, path, body, token=secret, **tenant)
    with CaptureQueriesContext(connection) as captured:
        response = api.call(method, path, body, token=secret, **tenant)
    assert response.status_code == 200, response.content
    assert database_queries(captured) == PRODUCT_REQUEST_QUERIES


def test_a_products_webhooks_list_in_two_queries(api, world):
    """GET /v1/product/webhooks: the platform tenant, the page (the credential is cached)."""
    from audit.services import SYSTEM
    from catalog.models import Tool
    from identity.product_credentials import issue_product_credential
    from outbox.services import create_subscription
    from tenancy.selectors import platform_tenant

    issued = issue_product_credential(tool=Tool.objects.get(key="erp"), name="erp", actor=SYSTEM)
    for index in range(60):
        create_subscription(tenant=platform_tenant(), url=f"https://hooks.example.com/{index}",
                            event_types=["access.changed"], actor=SYSTEM, product_credential=issued.credential)
    path = "/v1/product/webhooks"
    assert count(api, issued.secret, f"{path}?limit=1")[0] == count(api, issued.secret, f"{path}?limit=50")[0] == 2


def test_a_deliverys_attempts_list_in_two_queries(api, world):
    """GET /v1/webhooks/{id}/deliveries/{deliveryId}/attempts: the delivery (of that subscription),
    the page."""
    from django.utils import timezone

    from audit.services import SYSTEM
    from outbox.models import EventStatus, OutboxEvent, WebhookDelivery, WebhookDeliveryAttempt
    from outbox.services import create_subscription

    subscription = create_subscription(tenant=world.tenant, url="https://hooks.example.com/budget",
                                       event_types=["user.created"], actor=SYSTEM).subscription
    event = OutboxEvent.objects.create(tenant=world.tenant, type="user.created", status=EventStatus.DONE)
    delivery = WebhookDelivery.objects.create(tenant=world.tenant, event=event, subscription=subscription)
    WebhookDeliveryAttempt.objects.bulk_create(
        WebhookDeliveryAttempt(tenant=world.tenant, delivery=delivery, number=number, started_at=timezone.now(),
                               response_status=500, latency_ms=number, error="HTTP 500") for number in range(1, 61))
    path = f"/v1/webhooks/{subscription.pk}/deliveries/{delivery.pk}/attempts"
    assert count(api, world.admin_token, f"{path}?limit=1")[0] == count(api, world.admin_token, f"{path}?limit=50")[0] == 2
