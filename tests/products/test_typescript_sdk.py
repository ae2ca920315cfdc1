"""The TypeScript SDK (clients/typescript, `@aza8/hub`) against a live hub: pytest starts the hub and sets
the world up (tests/products/conftest.py), Node's test runner runs clients/typescript/test on the
compiled SDK with the world in its environment; the Node side subscribes to the hub's events itself
and receives them on its own loopback server. Also: src/schema.ts is generated from the current schema."""

import json
import os
import subprocess
import time

import jwt
import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from identity.tokens import TokenType, issue_access_token
from tests.node import npm, npm_installed
from tests.runtime import PROJECT

pytestmark = [pytest.mark.slow, pytest.mark.once]

SDK = PROJECT / "clients" / "typescript"


@pytest.fixture(scope="module")
def built_sdk():
    npm_installed(SDK)
    npm(SDK, "run", "build")
    npm(SDK, "run", "build:test")
    return SDK


def _tokens(world) -> dict[str, str]:
    reader = world.login("reader@acme.com")
    sid = jwt.decode(reader["accessToken"], options={"verify_signature": False})["sid"]
    now = int(time.time())
    minted = {"subject": world.reader_id, "tenant_id": world.tenant_id, "token_type": TokenType.USER, "session": sid}
    return {
        "READER_TOKEN": reader["accessToken"],
        "READER_REFRESH_TOKEN": reader["refreshToken"],
        "OUTSIDER_TOKEN": world.login("outsider@acme.com")["accessToken"],
        "EXPIRED_TOKEN": issue_access_token(**minted, tools=["erp"], extra_claims={"iat": now - 3600, "exp": now - 60}).token,
        "GESTOR_ONLY_TOKEN": issue_access_token(**minted, tools=["gestor"]).token,
    }


def test_the_typescript_sdk_against_a_live_hub(built_sdk, world):
    env = {**os.environ, "HUB_URL": world.hub.base, "HUB_CREDENTIAL": world.credential, "HUB_TENANT_ID": world.tenant_id,
           "HUB_STAFF_TOKEN": world.staff, "HUB_ADMIN_TOKEN": world.admin, "READER_ID": world.reader_id,
           "GROUP_ID": world.group_id, "PERMISSION_ID": world.permission_id, **_tokens(world)}
    run = subprocess.run(["node", "--test", "--test-reporter=spec", "build/test/hub.test.js"], cwd=built_sdk, env=env,
                         capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    [times] = [json.loads(line.split(" ", 1)[1]) for line in output.splitlines() if line.startswith("TIMES ")]
    print(f"\nTypeScript SDK: refused {times['revoke']:.2f} s after a revoke, {times['suspension']:.2f} s after a "
          f"tenant's suspension, {times['logout']:.2f} s after a logout (cacheTtl 60 s, events flowing)")
    assert "ℹ pass 9" in output and "ℹ fail 0" in output, output[-3000:]


def test_the_sdks_types_are_generated_from_the_current_schema(built_sdk, tmp_path):
    schema = tmp_path / "openapi.json"
    schema.write_bytes(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    check = subprocess.run(["node", "scripts/codegen.mjs", str(schema), "--check"], cwd=built_sdk, capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, f"{check.stdout}{check.stderr}\nrun: node clients/typescript/scripts/codegen.mjs " \
                                  "<manage.py spectacular --format openapi-json>"
