"""The restore drill of docs/operations.md, run for real: pg_dump the database, pg_restore it into a
fresh one, and check that the restored hub has no seed drift and lets a user log in."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from identity.services import create_user
from tests.factories import TenantFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PROJECT = Path(settings.BASE_DIR)
PASSWORD = "a long enough one"


def client_binaries(server_major: int) -> Path:
    """The directory whose pg_dump and pg_restore match the server's major version: the embedded
    server's own (inside the pgserver package), or the machine's."""
    import pgserver._commands

    candidates = [pgserver._commands.POSTGRES_BIN_PATH, Path(f"/usr/lib/postgresql/{server_major}/bin")]
    if shutil.which("pg_dump"):
        candidates.append(Path(shutil.which("pg_dump")).parent)
    for directory in candidates:
        if (directory / "pg_dump").exists() and (directory / "pg_restore").exists():
            version = subprocess.run([directory / "pg_dump", "--version"], capture_output=True, text=True).stdout
            if int(version.split()[-1].split(".")[0]) == server_major:
                return directory
    pytest.fail(f"No pg_dump/pg_restore for PostgreSQL {server_major} among {candidates}")


def libpq_args(name: str) -> list[str]:
    db = connection.settings_dict
    args = ["--host", db["HOST"], "--username", db["USER"], "--dbname", name]
    return args + (["--port", str(db["PORT"])] if db.get("PORT") else [])


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    if db["HOST"].startswith("/"):
        return f"postgres://{quote(db['USER'])}{password}@/{name}?host={db['HOST']}"
    return f"postgres://{quote(db['USER'])}{password}@{db['HOST']}:{db.get('PORT') or 5432}/{name}"


def admin_connection():
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"], port=db.get("PORT") or None, user=db["USER"],
                           password=db.get("PASSWORD") or None, dbname="postgres", autocommit=True)


def hub(restored_url: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": restored_url, "HUB_DATA_DIR": str(settings.DATA_DIR)}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=300)


LOGIN = """
import json
from django.test import Client
response = Client().post("/v1/auth/login", json.dumps({body}), content_type="application/json")
print(response.status_code, sorted(response.json().get("data", {{}})))
"""


def test_dump_restore_into_a_fresh_database_then_seed_check_and_login(tmp_path):
    call_command("seed", stdout=open(os.devnull, "w"))
    tenant = TenantFactory(slug="drill")
    create_user(tenant=tenant, email="ops@drill.example", password=PASSWORD)
    source = connection.settings_dict["NAME"]
    restored = f"{source}_restore_drill"
    server_major = connection.pg_version // 10000
    binaries = client_binaries(server_major)
    dump = tmp_path / "hub.dump"

    subprocess.run([binaries / "pg_dump", "--format=custom", "--file", dump, *libpq_args(source)], check=True)
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run([binaries / "pg_restore", "--no-owner", "--exit-on-error", *libpq_args(restored), dump],
                       check=True)
        check = hub(database_url(restored), "seed", "--check")
        assert check.returncode == 0 and "No drift." in check.stdout, check.stdout + check.stderr
        body = {"tenant": "drill", "email": "ops@drill.example", "password": PASSWORD}
        login = hub(database_url(restored), "shell", "-c", LOGIN.format(body=json.dumps(body)))
        assert login.stdout.strip().splitlines()[-1] == "200 ['accessToken', 'expiresIn', 'refreshToken', 'tokenType']", (
            login.stdout + login.stderr)
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
