"""examples/erp end to end: the ERP's FastAPI service under uvicorn against a live hub, through the
examples' drill (tests/products/services.py): 200 / 403 / 401, usage in the hub, a revoked grant
refused with webhooks and without."""

import sys
from functools import partial

import pytest

from tests.products.services import revocation_drill, service
from tests.runtime import PROJECT

pytestmark = pytest.mark.slow


def erp_service(world, port: int, webhook_secret: str | None):
    command = [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(PROJECT / "examples" / "erp"), "--host",
               "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    return service(world, command, cwd=PROJECT, port=port, webhook_secret=webhook_secret, name="ERP")


def _vehicles(running, token):
    return running.get("/vehicles", headers={"Authorization": f"Bearer {token}"} if token else {})


def test_the_erp_service_decides_reports_and_follows_revocations(world):
    revocation_drill(world, partial(erp_service, world), _vehicles, name="ERP service",
                     refused_code=lambda answer: answer.json()["detail"]["code"])
