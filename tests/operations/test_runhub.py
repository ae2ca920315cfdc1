"""`manage.py runhub` (what `make run` starts) serves the API, the admin and the schema, and stops cleanly."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.runtime import database_url

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_runhub_serves_health_admin_and_schema_then_stops(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }
    env.pop("CELERY_BROKER_URL", None)  # the Postgres-backed fallback, as on a fresh machine
    hub = subprocess.Popen(
        [sys.executable, "manage.py", "runhub", "--worker-concurrency", "1"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status, body = get(f"{base}/health")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, body
        assert '"broker":"ok"' in body
        status, page = get(f"{base}/admin/login/")
        assert status == 200 and "Aza8 Hub" in page
        status, schema = get(f"{base}/v1/openapi.json")
        assert status == 200 and '"openapi"' in schema
        credentials = (tmp_path / "first-staff-login.txt").read_text()
        assert "admin@aza8.local" in credentials
    finally:
        os.killpg(hub.pid, signal.SIGINT)
        output, _ = hub.communicate(timeout=60)
    assert "Admin:  " in output and "first-staff-login.txt" in output
    # Every child went down with it.
    leftovers = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout
    assert leftovers.strip() == ""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_runhub_on_a_taken_port_says_so_and_how_to_choose_another(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "HUB_DATA_DIR": str(tmp_path),
               "HUB_PORT": str(port)}
        result = subprocess.run([sys.executable, "manage.py", "runhub"], cwd=PROJECT, env=env, capture_output=True,
                                text=True, timeout=60)
    assert result.returncode != 0
    assert f"127.0.0.1:{port} is taken" in result.stderr and "HUB_PORT=" in result.stderr
    assert "is running" not in result.stdout
