"""A TypeScript client generated from the live schema (openapi-typescript + openapi-fetch), type-checked
and run against the hub: a drift of the envelope, a field's name or a shape between the schema and
what a product's code reads breaks `tsc`; one between the schema and the hub breaks the run."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.contract.conftest import login, tenant_admin
from tests.node import npm, npm_installed

pytestmark = [pytest.mark.slow, pytest.mark.once]

CLIENT = Path(__file__).with_name("client")


def test_a_client_generated_from_the_schema_type_checks_and_calls_the_hub(live_hub):
    npm_installed(CLIENT)
    token = login(live_hub, *tenant_admin())
    status, schema, _ = live_hub.call("GET", "/v1/openapi.json")
    assert status == 200
    (CLIENT / "schema.json").write_text(schema["text"])
    npm(CLIENT, "run", "generate")
    npm(CLIENT, "run", "build")
    run = subprocess.run(["node", "dist/call.js"], cwd=CLIENT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HUB_URL": live_hub.base, "HUB_TOKEN": token})
    assert run.returncode == 0, run.stderr[-4000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    assert answer["tenantSlug"] == "acme" and answer["code"] == "VALIDATION_ERROR" and answer["hasMore"] is False
