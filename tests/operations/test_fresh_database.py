"""What ops run on a new database — `manage.py migrate`, then `manage.py seed` (README, Operations) —
is all it needs, with the database cache (no CACHE_URL): the cache's table comes with a migration."""

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.runtime import database_url

PROJECT = Path(__file__).resolve().parents[2]


def _server(settings_dict) -> psycopg.Connection:
    """A connection to the test database's server outside any database the suite uses."""
    return psycopg.connect(dbname="postgres", host=settings_dict["HOST"] or None, port=settings_dict.get("PORT") or None,
                           user=settings_dict["USER"], password=settings_dict.get("PASSWORD") or None, autocommit=True)


@contextmanager
def empty_database():
    """A new, empty database on the test server, dropped afterwards; yields its settings."""
    settings_dict = {**settings.DATABASES["default"], "NAME": f"hubb_fresh_{secrets.token_hex(4)}"}
    with _server(settings_dict) as server:
        server.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')
    try:
        yield settings_dict
    finally:
        with _server(settings_dict) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')


def manage(env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *command], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_migrate_then_seed_on_an_empty_database_without_cache_url(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("CACHE_URL", "CELERY_BROKER_URL")}
    with empty_database() as fresh:
        env.update(DATABASE_URL=database_url(fresh), HUB_DATA_DIR=str(tmp_path))
        migrated = manage(env, "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        seeded = manage(env, "seed")
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        # An install whose table predates the migration (createcachetable) runs it over the table.
        for command in (("migrate", "core", "zero"), ("migrate",)):
            again = manage(env, *command)
            assert again.returncode == 0, again.stderr[-3000:]
        with psycopg.connect(database_url(fresh)) as database:
            columns = database.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'hub_cache'"
            ).fetchall()
            indexed = database.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'hub_cache'").fetchall()
        assert dict(columns) == {"cache_key": "character varying", "value": "text",
                                 "expires": "timestamp with time zone"}
        assert any("(expires)" in definition for definition, in indexed)
