"""The check a kept connection gets before a request's first query (core/db/backend)."""

import time

import psycopg
import pytest
from django.db import connection, connections

from core.db.backend.base import _has_input

pytestmark = pytest.mark.django_db(transaction=True)


def _start_request():
    # What Django's request_started signal does to each connection (close_old_connections).
    connection.close_if_unusable_or_obsolete()


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def full_checks(monkeypatch):
    """Counts Django's own check (`SELECT 1` on the raw connection) without replacing it."""
    calls = []
    wrapper = type(connections["default"])
    usable = wrapper.is_usable

    def counted(self):
        calls.append(self.alias)
        return usable(self)

    monkeypatch.setattr(wrapper, "is_usable", counted)
    return calls


def _end_from_the_server(pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while not _has_input(connection.connection):
        assert time.monotonic() < deadline, "the terminated session's socket never turned readable"
        time.sleep(0.05)


def test_a_working_connection_is_used_as_it_is_without_a_round_trip(full_checks):
    pid = _backend_pid()
    assert connection.health_check_enabled
    _start_request()
    assert _backend_pid() == pid
    assert full_checks == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(full_checks):
    pid = _backend_pid()
    _end_from_the_server(pid)
    _start_request()
    assert _backend_pid() != pid
    assert full_checks == ["default"]
