"""Helpers for tests that start the hub's own processes against the test database."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from kombu import Connection

from operations.management.commands.runhub import web_command, worker_command

__all__ = ["HttpClient", "broker_connection", "celery_workers", "database_url", "free_port", "hub_env", "wait_for", "web_server"]

PROJECT = Path(__file__).resolve().parents[1]


def database_url(settings_dict) -> str:
    """A DATABASE_URL for another process to reach the database this test uses."""
    host = settings_dict["HOST"]
    if host.startswith("/"):
        return f"postgres://{settings_dict['USER']}@/{settings_dict['NAME']}?host={quote(host)}"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hub_env(**extra) -> dict:
    """The environment of a hub process on this test's database and broker."""
    from django.db import connection

    from config.celery import app

    return {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": app.conf.broker_url,
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "USAGE_FLUSH_SECONDS": "0",
        **extra,
    }


def wait_for(condition, timeout: float, nudge=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if nudge:
            nudge()
        time.sleep(0.5)
    return condition()


def _stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _purge_task_queue(broker_url: str) -> None:
    """Drop the drain triggers that earlier tests published with no worker to take them. A worker
    started behind thousands of them reaches its own test's trigger only after them (the tracing
    test once waited out its 60 s behind 2,682)."""
    from config.celery import app

    with broker_connection(broker_url) as connection:
        app.control.purge(connection=connection)


def broker_connection(url: str) -> Connection:
    """A connection to the broker at `url`, whichever this process is configured with: the app's
    broker_transport_options belong to its own broker (Redis socket timeouts, which the SQLAlchemy
    transport's create_engine() refuses)."""
    return Connection(url)


@contextmanager
def celery_workers(count: int, **extra_env):
    """`count` Celery workers (solo pool, so each is exactly one process) started as the image starts
    them, on an empty task queue."""
    env = hub_env(**extra_env)
    _purge_task_queue(env["CELERY_BROKER_URL"])
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", *worker_command(), "--pool", "solo", "--loglevel", "WARNING",
             "--hostname", f"test-worker-{index}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for index in range(count)
    ]
    try:
        yield processes
    finally:
        _stop(processes)


class HttpClient:
    """JSON over real HTTP to one hub process."""

    def __init__(self, base: str):
        self.base = base

    def call(self, method, path, body=None, token=None, headers=None) -> tuple[int, dict, dict]:
        """(status, JSON body or {}, response headers)."""
        request = urllib.request.Request(
            self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}),
                     **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, response_headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, response_headers = error.code, error.read(), dict(error.headers)
        is_json = response_headers.get("Content-Type", "").startswith("application/json")
        return status, json.loads(raw) if raw and is_json else {"text": raw.decode()}, response_headers


@contextmanager
def web_server(*, workers: int = 1, log_path: Path | None = None, **extra_env):
    """gunicorn serving the hub on a free loopback port, as the image runs it; yields an HttpClient
    whose `pid` is gunicorn's master."""
    port = free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", *web_command(f"127.0.0.1:{port}", workers)],
        cwd=PROJECT, env=hub_env(**extra_env), stdout=log, stderr=log,
    )
    client = HttpClient(f"http://127.0.0.1:{port}")
    client.pid = process.pid

    def up():
        try:
            return client.call("GET", "/health")[0] in (200, 503)
        except OSError:
            return False

    try:
        assert wait_for(up, 60), f"gunicorn on port {port} did not start"
        yield client
    finally:
        _stop([process])
        if log_path:
            log.close()
