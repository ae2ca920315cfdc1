"""What the example products' end-to-end tests share: a product's service started in a subprocess
against the live hub, and the drill each of them passes — 200 for the user granted the action, 403
for the one without, 401 with no token, the usage in the hub's GET /v1/usage, and the grant revoked
through the hub's API refused by the service, measured with webhooks flowing (goal ≤ 5 s) and with no
subscription (goal ≤ the cache TTL, 3 s here to keep CI short)."""

import os
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx

from tests.node import npm, npm_installed
from tests.products.sdk import GOAL_WITH_WEBHOOKS, until
from tests.runtime import PROJECT, free_port, wait_for

__all__ = ["CACHE_TTL", "node_example", "revocation_drill", "service"]

SDK = PROJECT / "clients" / "typescript"

CACHE_TTL = 3
# Polling every 0.1 s, and one request's round trip, on top of the TTL.
POLL_SLACK = 0.5

# (port, webhook secret or None) -> the running service, as a client of it.
Start = Callable[[int, str | None], AbstractContextManager[httpx.Client]]
# (the service, an access token or None) -> its answer on the protected route.
Call = Callable[[httpx.Client, str | None], httpx.Response]


@contextmanager
def service(world, command: list[str], *, cwd, port: int, webhook_secret: str | None, name: str):
    """`command` serving the product on `port` (also in $PORT), configured for the world's hub the way
    every example reads it from its environment; a client of it once GET /health answers 200."""
    env = {"HUB_URL": world.hub.base, "HUB_CREDENTIAL": world.credential, "HUB_WEBHOOK_SECRET": webhook_secret or "",
           "HUB_CACHE_TTL": str(CACHE_TTL), "HUB_USAGE_FLUSH_SECONDS": "0.5", "PORT": str(port)}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

        def answered():
            try:
                return client.get("/health").status_code == 200
            except httpx.TransportError:
                return False

        try:
            # A service that exited (a build missing, a bad setting) fails at once, with its output.
            if not (wait_for(lambda: process.poll() is not None or answered(), 30) and process.poll() is None):
                log.seek(0)
                raise AssertionError(f"the {name} service did not start:\n{log.read()[-4000:].decode(errors='replace')}")
            yield client
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=20)


def node_example(world, name: str) -> Start:
    """examples/<name> built (tsc) on the SDK as it is in this checkout, started as `node dist/main.js`.
    The example installs the SDK packed, like a published package (its .npmrc: install-links), so the SDK
    is built first, and `npm ci` runs again when node_modules is missing or holds another build of it."""
    npm_installed(SDK)
    npm(SDK, "run", "build")
    folder = PROJECT / "examples" / name
    if _files(folder / "node_modules" / "@aza8" / "hub" / "dist") != _files(SDK / "dist"):
        npm(folder, "ci", "--no-audit", "--no-fund")
    npm(folder, "run", "build")
    return lambda port, webhook_secret: service(world, ["node", "dist/main.js"], cwd=folder, port=port,
                                                webhook_secret=webhook_secret, name=name)


def _files(folder: Path) -> dict[Path, bytes]:
    return {path.relative_to(folder): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def revocation_drill(world, start: Start, call: Call, *, name: str,
                     refused_code: Callable[[httpx.Response], str] = lambda answer: answer.json()["error"]["code"]):
    """The drill on the service `start` runs; `refused_code` reads the error code of its 403 (by default
    from `{"error": {"code"}}`, the TypeScript SDK's answer as the hub's)."""
    reader = world.login("reader@acme.com")["accessToken"]
    outsider = world.login("outsider@acme.com")["accessToken"]
    port = free_port()
    subscription = world.subscribe(f"http://127.0.0.1:{port}/hub/events")

    with start(port, subscription["secret"]) as running:
        allowed = call(running, reader)
        assert allowed.status_code == 200, allowed.text
        refused = call(running, outsider)
        assert refused.status_code == 403 and refused_code(refused) == "FORBIDDEN_ACTION", refused.text
        assert call(running, None).status_code == 401
        assert wait_for(lambda: world.usage(world.action) == 1, 10), world.usage(world.action)
        world.revoke_read()
        with_webhooks = until(lambda: call(running, reader).status_code == 403, GOAL_WITH_WEBHOOKS, every=0.1)

    world.ok("DELETE", f"/v1/product/webhooks/{subscription['id']}", token=world.credential, expect=204)
    world.grant_read()
    with start(free_port(), None) as running:
        assert until(lambda: call(running, reader).status_code == 200, CACHE_TTL + POLL_SLACK, every=0.1) is not None
        world.revoke_read()
        without = until(lambda: call(running, reader).status_code == 403, CACHE_TTL + POLL_SLACK, every=0.1)
    assert wait_for(lambda: world.usage(world.action) >= 2, 10), world.usage(world.action)

    print(f"\n{name} refused a revoked grant {with_webhooks and f'{with_webhooks:.2f} s'} after the hub's answer "
          f"with webhooks (goal {GOAL_WITH_WEBHOOKS:.0f} s), {without and f'{without:.2f} s'} without "
          f"(cache TTL {CACHE_TTL} s)")
    assert with_webhooks is not None and without is not None
