"""Issue 26's lost-connection drill, against gunicorn on the test database: while clients create 600
users, each with its own Idempotency-Key and retrying as the API tells them to, the test database's
backends are terminated three times. Nothing acknowledged may be lost, no answer may be other than
2xx or 503, and no key may stay stuck: every retried key replays its write or runs it."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection

from audit.models import IdempotencyKey, IdempotencyStatus
from identity.models import User
from tests.contract.conftest import UNLIMITED, login, tenant_admin
from tests.runtime import database_url, web_server

pytestmark = [pytest.mark.slow, pytest.mark.once, pytest.mark.django_db(transaction=True)]

WRITES = 600
CLIENTS = 8
KILLS_AT = (0.25, 0.5, 0.75)  # of the writes acknowledged
RETRY_FOR_SECONDS = 60


class Burst:
    def __init__(self, hub, token):
        self.hub, self.token = hub, token
        self.answers, self.acknowledged, self.replayed = Counter(), {}, 0
        self.lock = threading.Lock()

    def write(self, index: int) -> None:
        """One user, retried on 503 and 409 after the Retry-After the hub gave, until it is acknowledged."""
        body, key = {"email": f"user{index}@drill.test"}, {"Idempotency-Key": f"drill-{index}"}
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            status, answer, headers = self.hub.call("POST", "/v1/users", body, token=self.token, headers=key)
            with self.lock:
                self.answers[status] += 1
                if status == 201:
                    self.acknowledged[index] = answer["data"]["id"]
                    self.replayed += headers.get("Idempotent-Replayed") == "true"
            if status not in (409, 503) or time.monotonic() > deadline:
                return
            time.sleep(float(headers.get("Retry-After", "1")))


def _terminate_backends() -> int:
    """Every other connection to the test database, ended as an operator or a restart would."""
    with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def test_terminated_backends_lose_no_acknowledged_write_and_stick_no_key(seeded, transactional_db):
    slug, email = tenant_admin()
    with web_server(workers=4, **UNLIMITED) as hub:
        burst = Burst(hub, login(hub, slug, email))
        terminated, stop = [], threading.Event()

        def killer():
            for share in KILLS_AT:
                while len(burst.acknowledged) < share * WRITES and not stop.is_set():
                    time.sleep(0.005)
                if stop.is_set():
                    return
                terminated.append(_terminate_backends())

        killing = threading.Thread(target=killer)
        killing.start()
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as clients:
            list(clients.map(burst.write, range(WRITES)))
        stop.set()
        killing.join()
        elapsed = time.monotonic() - started

    connection.close()  # the test's own connection was terminated with the others
    ids = {str(pk) for pk in User.objects.filter(email__endswith="@drill.test").values_list("pk", flat=True)}
    lost = sum(user_id not in ids for user_id in burst.acknowledged.values())
    stuck = IdempotencyKey.objects.filter(key__startswith="drill-", status=IdempotencyStatus.IN_PROGRESS).count()
    unacknowledged = WRITES - len(burst.acknowledged)
    print(f"\nlost-connection drill: {WRITES} writes in {elapsed:.1f} s, {len(terminated)} terminations "
          f"({sum(terminated)} backends), answers by status {dict(burst.answers)}, {burst.replayed} replays, "
          f"{lost} acknowledged lost, {unacknowledged} never acknowledged, {stuck} keys stuck, "
          f"{len(ids)} users for {WRITES} keys")

    assert len(terminated) == len(KILLS_AT) and all(terminated)
    assert burst.answers[503] > 0, "no request was cut: the drill proved nothing"
    assert set(burst.answers) <= {201, 503}
    assert lost == 0 and unacknowledged == 0 and stuck == 0
    assert len(ids) == WRITES  # each key ran exactly once
