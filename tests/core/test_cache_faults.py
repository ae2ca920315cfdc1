"""A Redis cache out of reach (core/cache/faults.py): requests are answered from the database, writes
commit, request limits let traffic through, the login limit refuses with 503, and a Redis that
stops answering costs one short timeout per retry interval, not one per call."""

import socket
import threading
import time

import pytest
from django.core.cache import cache
from prometheus_client import REGISTRY

from core.cache.faults import CacheUnavailable, cache_required
from outbox.models import EventStatus, OutboxEvent
from tests.contract.conftest import tenant_admin
from tests.identity.conftest import PASSWORD
from tests.runtime import free_port

pytestmark = pytest.mark.django_db


def _redis_cache(port: int, **options) -> dict:
    return {"default": {"BACKEND": "core.cache.redis.HubRedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0",
                        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2, **options}}}


def _unreachable_count() -> float:
    return sum(sample.value for metric in REGISTRY.collect() if metric.name == "hub_cache_unavailable"
               for sample in metric.samples if sample.name == "hub_cache_unavailable_total")


@pytest.fixture
def admin_token(api, seeded):
    slug, email = tenant_admin()
    response = api.post("/v1/auth/login", {"tenant": slug, "email": email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["data"]["accessToken"]


@pytest.fixture
def silent_redis():
    """A port that accepts connections and never answers: a Redis that hangs, or a dead link."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted, stop = [], threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_with_redis_refusing_requests_are_answered_and_writes_commit(api, admin_token, settings, log_output):
    settings.CACHES = _redis_cache(free_port())  # nothing listens there
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": 1}
    before = _unreachable_count()
    for _ in range(3):  # over the read limit: nothing can count it, and a request limit fails open
        me = api.get("/v1/me", token=admin_token)
        assert me.status_code == 200, me.content
    created = api.post("/v1/users", {"email": "new@acme.com"}, token=admin_token)
    assert created.status_code == 201, created.content
    assert OutboxEvent.objects.filter(type="user.created").latest("created_at").status == EventStatus.PENDING
    # The login limit cannot count guesses: refused rather than unlimited.
    refused = api.post("/v1/auth/login", {"tenant": "acme", "email": "admin@acme.com", "password": PASSWORD})
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(refused["Retry-After"]) > 0
    assert _unreachable_count() > before
    logged = [line for line in log_output.getvalue().splitlines() if "cache_unavailable" in line]
    assert len(logged) == 1  # rate-limited: one line for every call of these requests


def test_a_silent_redis_costs_one_timeout_per_retry_interval(api, admin_token, settings, silent_redis):
    settings.CACHES = _redis_cache(silent_redis)
    settings.CACHE_RETRY_SECONDS = 30
    started = time.monotonic()
    assert api.get("/v1/me", token=admin_token).status_code == 200
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(5):
        assert api.get("/v1/me", token=admin_token).status_code == 200
    rest = time.monotonic() - started
    assert 0.2 <= first < 1.5, first  # one socket timeout (a resend is not tried past it)
    assert rest < 0.5, rest  # no Redis call at all within the retry interval


def test_cache_required_raises_where_a_plain_call_degrades(settings):
    settings.CACHES = _redis_cache(free_port())
    assert cache.set("k", 1) is None and cache.get("k", "missing") == "missing"
    assert cache.add("k", 1) is False and cache.get_many(["k"]) == {} and cache.set_many({"k": 1}) == ["k"]
    with cache_required(), pytest.raises(CacheUnavailable) as raised:
        cache.delete("k")
    assert raised.value.status_code == 503 and int(raised.value.headers["Retry-After"]) > 0
    settings.CACHE_RETRY_SECONDS = 0  # and tried again at once when no retry interval is set
    with cache_required(), pytest.raises(CacheUnavailable):
        cache.set("k", 1)
