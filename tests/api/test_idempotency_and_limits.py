import pytest

from audit.models import IdempotencyKey
from branding.models import TenantConfig
from identity.models import User
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db


def post(api, world, body, key, token=None):
    return api.post("/v1/users", body, token=token or world.admin_token, **{"Idempotency-Key": key})


def test_replay_returns_the_first_answer(api, world):
    first = post(api, world, {"email": "once@acme.com"}, "k-1")
    second = post(api, world, {"email": "once@acme.com"}, "k-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert second.json() == first.json()
    assert User.objects.filter(email="once@acme.com").count() == 1


def test_same_key_other_body_is_422(api, world):
    post(api, world, {"email": "a@acme.com"}, "k-2")
    response = post(api, world, {"email": "b@acme.com"}, "k-2")
    assert response.status_code == 422 and response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert not User.objects.filter(email="b@acme.com").exists()


def test_keys_are_per_tenant_and_per_handler(api, world):
    post(api, world, {"email": "h@acme.com"}, "shared")
    group = api.post("/v1/groups", {"name": "g"}, token=world.admin_token, **{"Idempotency-Key": "shared"})
    assert group.status_code == 201 and "Idempotent-Replayed" not in group
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_a_failed_request_releases_its_key(api, world):
    bad = post(api, world, {"email": "not-an-email"}, "k-3")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k-3").exists()
    assert post(api, world, {"email": "fixed@acme.com"}, "k-3").status_code == 201


def test_an_expired_key_runs_again(api, world):
    from datetime import timedelta

    from django.utils import timezone

    post(api, world, {"email": "old@acme.com", "name": "x"}, "k-4")
    IdempotencyKey.objects.filter(key="k-4").update(created_at=timezone.now() - timedelta(hours=25))
    User.objects.filter(email="old@acme.com").delete()
    again = post(api, world, {"email": "old@acme.com", "name": "x"}, "k-4")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again


def test_auth_routes_ignore_idempotency_keys(api, world):
    from tests.api.conftest import PASSWORD

    body = {"tenant": "acme", "email": "admin@acme.com", "password": PASSWORD}
    first = api.post("/v1/auth/login", body, **{"Idempotency-Key": "login"})
    second = api.post("/v1/auth/login", body, **{"Idempotency-Key": "login"})
    assert first.json()["data"]["refreshToken"] != second.json()["data"]["refreshToken"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_execute_once(seeded, client):
    from audit.services import SYSTEM
    from identity.models import Group
    from identity.services import add_member, create_user
    from identity.sessions import login
    from tests.api.conftest import World, _seed_tenant  # noqa: F401
    from tests.identity.conftest import Api

    tenant = _seed_tenant("race")
    admin = create_user(tenant=tenant, email="admin@race.com", password="x" * 12).user
    add_member(group=Group.objects.get(tenant=tenant, name="ADM_CLIENTE"), user=admin, actor=SYSTEM)
    token = login(tenant_slug="race", email="admin@race.com", password="x" * 12, ip="127.0.0.1").access_token
    def attempt():
        from django.test import Client

        response = Api(Client()).post("/v1/users", {"email": "twin@race.com"}, token=token, **{"Idempotency-Key": "twin"})
        return response.status_code, response.get("Idempotent-Replayed")

    results = run_concurrently(attempt, 2)
    assert User.objects.filter(email="twin@race.com").count() == 1
    statuses = sorted(status for status, _ in results)
    # One ran; the other either saw it running (409) or, if it came second, got the replay (201).
    assert statuses in ([201, 409], [201, 201])
    assert sum(1 for status, replayed in results if status == 201 and replayed is None) == 1


def test_write_rate_limit_per_tenant_with_retry_after(api, world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "write": 3}
    codes = [api.post("/v1/groups", {"name": f"g{i}"}, token=world.admin_token).status_code for i in range(4)]
    assert codes == [201, 201, 201, 429]
    limited = api.post("/v1/groups", {"name": "g9"}, token=world.admin_token)
    assert limited.json()["error"]["code"] == "RATE_LIMITED" and 1 <= int(limited["Retry-After"]) <= 60
    # Reads are another category; other tenants have their own budget.
    assert api.get("/v1/groups", token=world.admin_token).status_code == 200
    from identity.services import create_api_key

    other_key = create_api_key(tenant=world.other, name="other-writer", profile="admin").key
    assert api.post("/v1/authz/check", {"toolActions": ["users.read"]}, token=other_key).status_code == 200


def test_tenant_config_overrides_the_default_limit(api, world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": 2}
    TenantConfig.objects.create(tenant=world.tenant, limits={"rateLimits": {"read": 5}})
    codes = [api.get("/v1/groups", token=world.admin_token).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_unauthenticated_routes_are_limited_per_address(api, world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": 2}
    body = {"refreshToken": "nothing.here"}
    codes = [api.post("/v1/auth/refresh", body).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert api.post("/v1/auth/refresh", body, REMOTE_ADDR="10.1.1.1").status_code == 401
    assert api.get("/health").status_code == 200  # never throttled
