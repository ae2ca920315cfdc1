"""examples/erp end to end: the ERP's FastAPI service under uvicorn against a live hub. 200 for the
user granted erp.vehicles.read, 403 for the one without, the usage in the hub's GET /v1/usage, and
the grant revoked through the hub's API refused by the service — measured with webhooks flowing
(goal ≤ 5 s) and with no subscription (goal ≤ the cache TTL, 3 s here to keep CI short)."""

import os
import subprocess
import sys
from contextlib import contextmanager

import httpx
import pytest

from tests.products.conftest import READ
from tests.products.sdk import GOAL_WITH_WEBHOOKS, until
from tests.runtime import PROJECT, free_port, wait_for

pytestmark = pytest.mark.slow

CACHE_TTL = 3
# Polling every 0.1 s, and one request's round trip, on top of the TTL.
POLL_SLACK = 0.5


@contextmanager
def erp_service(world, port: int, webhook_secret: str | None):
    env = {"HUB_URL": world.hub.base, "HUB_CREDENTIAL": world.credential, "HUB_WEBHOOK_SECRET": webhook_secret or "",
           "HUB_CACHE_TTL": str(CACHE_TTL), "HUB_USAGE_FLUSH_SECONDS": "0.5"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", str(PROJECT / "examples" / "erp"), "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    service = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def up():
        try:
            return service.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert wait_for(up, 30), "the ERP service did not start"
        yield service
    finally:
        service.close()
        process.terminate()
        process.wait(timeout=20)


def _vehicles(service, token=None) -> httpx.Response:
    return service.get("/vehicles", headers={"Authorization": f"Bearer {token}"} if token else {})


def test_the_erp_service_decides_reports_and_follows_revocations(world):
    reader = world.login("reader@acme.com")["accessToken"]
    outsider = world.login("outsider@acme.com")["accessToken"]
    port = free_port()
    subscription = world.subscribe(f"http://127.0.0.1:{port}/hub/events")

    with erp_service(world, port, subscription["secret"]) as service:
        assert _vehicles(service, reader).status_code == 200
        refused = _vehicles(service, outsider)
        assert refused.status_code == 403 and refused.json()["detail"]["code"] == "FORBIDDEN_ACTION", refused.text
        assert _vehicles(service).status_code == 401
        assert wait_for(lambda: world.usage(READ) == 1, 10), world.usage(READ)
        world.revoke_read()
        with_webhooks = until(lambda: _vehicles(service, reader).status_code == 403, GOAL_WITH_WEBHOOKS, every=0.1)

    world.ok("DELETE", f"/v1/product/webhooks/{subscription['id']}", token=world.credential, expect=204)
    world.grant_read()
    with erp_service(world, free_port(), None) as service:
        assert until(lambda: _vehicles(service, reader).status_code == 200, CACHE_TTL + POLL_SLACK, every=0.1) is not None
        world.revoke_read()
        without = until(lambda: _vehicles(service, reader).status_code == 403, CACHE_TTL + POLL_SLACK, every=0.1)
    assert wait_for(lambda: world.usage(READ) >= 2, 10), world.usage(READ)

    print(f"\nERP service refused a revoked grant {with_webhooks and f'{with_webhooks:.2f} s'} after the hub's "
          f"answer with webhooks (goal {GOAL_WITH_WEBHOOKS:.0f} s), {without and f'{without:.2f} s'} without "
          f"(cache TTL {CACHE_TTL} s)")
    assert with_webhooks is not None and without is not None
