"""What a web worker holds in memory (docs/scaling.md#memory), measured on real processes."""

import json
import subprocess
import sys

import pytest

from tests.runtime import PROJECT, hub_env

# What a gunicorn worker has imported once it has served its first requests.
LOADED_PACKAGES = """
import json, sys
from django.urls import get_resolver
from config.wsgi import application
from config.celery import app
app.connection_for_write()  # loads the broker transport, as the first publish or /health does
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
