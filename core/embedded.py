"""The embedded default: everything a small install needs, kept in the project's data folder.

With no `DATABASE_URL` the hub runs on a PostgreSQL server bundled by `pgserver` and stored under
`<data dir>/pg`; with no secrets in the environment (outside production) it generates them once
into `<data dir>/secrets.json`. Both are created on first use and reused by every process (web,
worker, beat, tests), so they agree on one database and one key set.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import uuid
import warnings
from pathlib import Path

__all__ = [
    "EMBEDDED_DATABASE_NAME",
    "embedded_database_settings",
    "load_or_create_dev_secrets",
    "stop_embedded_database",
]

EMBEDDED_DATABASE_NAME = "hub"


def _write_once(path: Path, content: str) -> None:
    """Create `path` with `content` unless another process won the race; never overwrite."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(content)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _generate_rsa_private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _generate_dev_secrets() -> dict:
    return {
        "SECRET_KEY": "dev-" + secrets.token_urlsafe(48),
        # Versioned so that a later key can be added without invalidating what was stored.
        "API_KEY_PEPPERS": {"1": secrets.token_urlsafe(32)},
        "CREDENTIAL_KEYS": {"1": base64.b64encode(secrets.token_bytes(32)).decode()},
        "JWT_PRIVATE_KEYS": {f"dev-{uuid.uuid4().hex[:8]}": _generate_rsa_private_key_pem()},
    }


def load_or_create_dev_secrets(data_dir: Path) -> dict:
    """The development secrets of this data folder, generated on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secrets.json"
    if not path.exists():
        _write_once(path, json.dumps(_generate_dev_secrets(), indent=2))
    return json.loads(path.read_text())


def embedded_database_settings(data_dir: Path) -> dict:
    """Start (or reuse) the embedded PostgreSQL server; return the hub database's connection fields.

    The server outlives the process that started it on purpose: web, worker and beat share it, and
    `manage.py runhub` stops it when the hub shuts down.
    """
    import psycopg

    pgserver = _import_pgserver()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pg", cleanup_mode=None)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE_NAME}"')
    return {"NAME": EMBEDDED_DATABASE_NAME, "USER": "postgres", "PASSWORD": "", "HOST": socket_dir, "PORT": ""}


def _import_pgserver():
    # pgserver keeps its lock file in the user's runtime dir and warns when XDG_RUNTIME_DIR is unset
    # (servers, CI); its /tmp fallback is what we want anyway.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver
    return pgserver


def stop_embedded_database(data_dir: Path) -> None:
    """Stop the embedded server (fast shutdown), whichever process started it."""
    pgdata = data_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return
    _import_pgserver()
    from pgserver._commands import pg_ctl

    # As root the server runs as pgserver's own system user, and pg_ctl must too.
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=user)
