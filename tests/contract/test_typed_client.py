"""A TypeScript client generated from the live schema (openapi-typescript + openapi-fetch), type-checked
and run against the hub: a drift of the envelope, a field's name or a shape between the schema and
what a product's code reads breaks `tsc`; one between the schema and the hub breaks the run."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.contract.conftest import login, tenant_admin

pytestmark = [pytest.mark.slow, pytest.mark.once]

CLIENT = Path(__file__).with_name("client")


def npm(*args: str, **env: str) -> subprocess.CompletedProcess:
    npm_path = shutil.which("npm")
    assert npm_path, "npm is not installed (Node 20 and npm come from Debian's packages)"
    result = subprocess.run([npm_path, *args], cwd=CLIENT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, **env})
    assert result.returncode == 0, f"npm {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_a_client_generated_from_the_schema_type_checks_and_calls_the_hub(live_hub):
    if not (CLIENT / "node_modules" / ".package-lock.json").exists():
        npm("ci", "--no-audit", "--no-fund")  # from the committed lockfile
    token = login(live_hub, *tenant_admin())
    status, schema, _ = live_hub.call("GET", "/v1/openapi.json")
    assert status == 200
    (CLIENT / "schema.json").write_text(schema["text"])
    npm("run", "generate")
    npm("run", "build")
    run = subprocess.run(["node", "dist/call.js"], cwd=CLIENT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HUB_URL": live_hub.base, "HUB_TOKEN": token})
    assert run.returncode == 0, run.stderr[-4000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["tenantSlug"] == "acme" and answer["code"] == "VALIDATION_ERROR" and answer["hasMore"] is False
