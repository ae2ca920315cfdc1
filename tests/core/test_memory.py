"""What a web worker holds in memory (docs/scaling.md#memory), measured on real processes."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from identity.services import create_user
from tests.factories import TenantFactory
from tests.identity.conftest import PASSWORD
from tests.runtime import PROJECT, hub_env, web_server

# identity.hashers.HubArgon2PasswordHasher, as encoded in a hash.
CURRENT_PARAMETERS = "argon2$argon2id$v=19$m=19456,t=2,p=1$"

# What a gunicorn worker has imported once it has served its first requests.
LOADED_PACKAGES = """
import json, sys
from django.urls import get_resolver
from config.wsgi import application
from config.celery import app
app.connection_for_write().transport  # loads the broker transport, as the first publish or /health does
get_resolver().url_patterns  # imports every view, as the first request does
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_packages(**env) -> set[str]:
    result = subprocess.run([sys.executable, "-c", LOADED_PACKAGES], cwd=PROJECT, env=hub_env(**env),
                            capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


REDIS_BROKER = {"CELERY_BROKER_URL": "redis://127.0.0.1:1/0", "SENTRY_DSN": "", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}


def test_a_web_worker_loads_neither_sentry_nor_sqlalchemy_unless_configured():
    assert not {"sentry_sdk", "sqlalchemy"} & loaded_packages(**REDIS_BROKER)


@pytest.mark.parametrize(("setting", "package"), [
    ({"SENTRY_DSN": "http://public@127.0.0.1:1/1"}, "sentry_sdk"),
    ({"CELERY_BROKER_URL": "sqla+postgresql+psycopg://hub@127.0.0.1:1/hub"}, "sqlalchemy"),
])
def test_each_is_loaded_once_configured(setting, package):
    assert package in loaded_packages(**{**REDIS_BROKER, **setting})


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_login_raises_a_web_workers_peak_by_one_owasp_sized_hash_and_upgrades_the_old_hash(seeded):
    tenant = TenantFactory(slug="acme")
    user = create_user(tenant=tenant, email="ana@acme.com", password=PASSWORD).user
    assert not user.password.startswith(CURRENT_PARAMETERS)  # written by the tests' cheap hasher
    with web_server(workers=1) as web:
        worker = int(Path(f"/proc/{web.pid}/task/{web.pid}/children").read_text().split()[0])
        # The login route's code is loaded without hashing: an invalid body is refused first.
        assert web.call("POST", "/v1/auth/login", {})[0] == 400
        before = peak_rss_mib(worker)
        status, _, _ = web.call("POST", "/v1/auth/login", {"tenant": "acme", "email": user.email, "password": PASSWORD})
        assert status == 200
        grown = peak_rss_mib(worker) - before
    # Django's own Argon2 parameters would add ~100 MiB here.
    assert grown < 30, f"a login raised the worker's peak RSS by {grown:.0f} MiB"
    user.refresh_from_db()
    assert user.password.startswith(CURRENT_PARAMETERS)
