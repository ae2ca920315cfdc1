"""Issue 26's Redis drill: gunicorn with its cache and its Celery broker on a Redis this test starts on
a port of its own (never the machine's shared one), stopped mid-test and started again empty, as a
restarted Redis without persistence comes back (docs/operations.md, faults)."""

import subprocess
import time
from collections import Counter
from contextlib import contextmanager

import pytest
import redis

from outbox.models import EventStatus, OutboxEvent
from tests.contract.conftest import UNLIMITED, login, tenant_admin
from tests.identity.conftest import PASSWORD
from tests.runtime import celery_workers, free_port, wait_for, web_server

pytestmark = [pytest.mark.slow, pytest.mark.once, pytest.mark.django_db(transaction=True)]

OUTAGE_REQUESTS = 30
# A request the cache cannot serve waits at most one connect timeout, and only once per retry interval.
SLOWEST_ANSWER_SECONDS = 2.0


class PrivateRedis:
    """redis-server on `port`, without persistence: started again, it comes back empty."""

    def __init__(self, port: int):
        self.port, self.process = port, None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(self._answers, 10), f"redis-server on port {self.port} did not start"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            return False


@contextmanager
def private_redis(port: int):
    server = PrivateRedis(port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _cached_keys(port: int) -> int:
    return redis.Redis(port=port, db=0, socket_timeout=1).dbsize()


def _timed(hub, *args, **kwargs):
    started = time.monotonic()
    status, body, headers = hub.call(*args, **kwargs)
    return status, body, headers, time.monotonic() - started


def _latest_user_event() -> OutboxEvent:
    return OutboxEvent.objects.filter(type="user.created").latest("created_at")


@pytest.mark.skipif(subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0,
                    reason="no redis-server on this machine")
def test_the_hub_answers_without_redis_and_recovers_when_it_returns(seeded, transactional_db):
    slug, email = tenant_admin()
    credentials = {"tenant": slug, "email": email, "password": PASSWORD}
    port = free_port()
    hub_redis = {"CACHE_URL": f"redis://127.0.0.1:{port}/0", "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/1",
                 "CACHE_RETRY_SECONDS": "0.5", **UNLIMITED}
    started = time.monotonic()
    with private_redis(port) as server, web_server(workers=1, **hub_redis) as hub:
        token, logged_out = login(hub, slug, email), login(hub, slug, email)
        assert hub.call("POST", "/v1/auth/logout", {}, token=logged_out)[0] == 204
        assert hub.call("GET", "/v1/me", token=logged_out)[0] == 401
        assert all(hub.call("GET", "/v1/me", token=token)[0] == 200 for _ in range(3))
        assert _cached_keys(port) > 0

        # --- Redis stopped: the hub answers from the database -----------------------------------
        server.stop()
        outage = Counter()
        slowest = 0.0
        for _ in range(OUTAGE_REQUESTS):
            status, _, _, seconds = _timed(hub, "GET", "/v1/me", token=token)
            outage[status] += 1
            slowest = max(slowest, seconds)
        status, created, _, seconds = _timed(hub, "POST", "/v1/users", {"email": "during@acme.com"}, token=token)
        slowest = max(slowest, seconds)
        assert status == 201, created
        during = _latest_user_event()
        assert during.status == EventStatus.PENDING  # kept until a broker takes the drain
        revoked = hub.call("GET", "/v1/me", token=logged_out)
        refused_login = hub.call("POST", "/v1/auth/login", credentials)
        print(f"\nredis drill, outage: {dict(outage)} for {OUTAGE_REQUESTS} GET /v1/me, slowest answer "
              f"{slowest:.3f} s, write 201, logged-out token {revoked[0]}, login {refused_login[0]}")
        assert outage == {200: OUTAGE_REQUESTS} and slowest < SLOWEST_ANSWER_SECONDS
        assert revoked[0] == 401 and revoked[1]["error"]["code"] == "TOKEN_REVOKED"
        assert refused_login[0] == 503 and int(refused_login[2]["Retry-After"]) > 0

        # --- Redis back, empty: the cache fills again and the event is delivered ----------------
        server.start()
        with celery_workers(1, **hub_redis):
            assert wait_for(lambda: hub.call("GET", "/v1/me", token=token)[0] == 200 and _cached_keys(port) > 0, 10)
            assert hub.call("GET", "/v1/me", token=logged_out)[0] == 401
            assert hub.call("POST", "/v1/auth/login", credentials)[0] == 200
            # A write after the return publishes a drain, which delivers the event kept in the outbox too.
            assert hub.call("POST", "/v1/users", {"email": "after@acme.com"}, token=token)[0] == 201

            def delivered():
                during.refresh_from_db()
                return during.status == EventStatus.DONE

            assert wait_for(delivered, 30), during.status
    elapsed = time.monotonic() - started
    print(f"redis drill: {elapsed:.1f} s in all; the event written during the outage delivered after it")
    assert elapsed < 60
