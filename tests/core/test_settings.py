"""DJANGO_ENV=production refuses to start on development secrets or DEBUG."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config.settings import _sqlalchemy_broker_url
from core.embedded import load_or_create_dev_secrets

PROJECT = Path(__file__).resolve().parents[2]


def production_env(**overrides):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "p" * 64,
        "DATABASE_URL": "postgres://hub:pw@db.internal:5432/hub",
        "CELERY_BROKER_URL": "redis://cache.internal:6379/0",
        "ALLOWED_HOSTS": "hub.example.com",
        "API_KEY_PEPPERS": json.dumps({"1": "q" * 43}),
        "CREDENTIAL_KEYS": json.dumps({"1": "r" * 44}),
        "JWT_PRIVATE_KEYS": json.dumps({"2026-11": key.decode()}),
        "HUB_DATA_DIR": "/nonexistent/never-used",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def load_settings(env):
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_every_secret_from_the_environment():
    result = load_settings(production_env())
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "dev-" + "x" * 60}, "development or too-short"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        ({"JWT_PRIVATE_KEYS": None}, "JWT_PRIVATE_KEYS must be set"),
        ({"JWT_PRIVATE_KEYS": json.dumps({"dev-1234": "pem"})}, "development key"),
        ({"API_KEY_PEPPERS": None}, "API_KEY_PEPPERS must be set"),
        ({"CREDENTIAL_KEYS": None}, "CREDENTIAL_KEYS must be set"),
    ],
)
def test_production_refuses_development_settings(overrides, message):
    result = load_settings(production_env(**overrides))
    assert result.returncode != 0
    assert message in result.stderr
    # Nothing was generated on the way to refusing.
    assert not Path("/nonexistent/never-used").exists()


def test_dev_secrets_are_generated_once_and_reused(tmp_path):
    first = load_or_create_dev_secrets(tmp_path)
    second = load_or_create_dev_secrets(tmp_path)
    assert first == second
    assert set(first) == {"SECRET_KEY", "API_KEY_PEPPERS", "CREDENTIAL_KEYS", "JWT_PRIVATE_KEYS"}
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    (pem,) = first["JWT_PRIVATE_KEYS"].values()
    assert serialization.load_pem_private_key(pem.encode(), password=None).key_size == 2048
    assert load_or_create_dev_secrets(tmp_path / "other") != first


@pytest.mark.parametrize(
    "database, url",
    [
        ({"NAME": "hub", "USER": "postgres", "HOST": "/srv/hub/.data/pg", "PORT": ""},
         "sqla+postgresql+psycopg://postgres@/hub?host=/srv/hub/.data/pg"),
        ({"NAME": "hub", "USER": "hub", "PASSWORD": "p@ss/word", "HOST": "db", "PORT": 5432},
         "sqla+postgresql+psycopg://hub:p%40ss%2Fword@db:5432/hub"),
    ],
)
def test_postgres_fallback_broker_url(database, url):
    assert _sqlalchemy_broker_url(database) == url
