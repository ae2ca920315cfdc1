"""The OpenAPI schema is a promise, checked by schemathesis against a live hub (issue 25).

The hub runs in gunicorn on this test's own database (flushed afterwards), with a platform admin
and a tenant admin. schemathesis runs every check and every phase, stateful links included, with a
fixed seed, once per caller. Operations that can change the caller's own standing (its tenant's rate
limits, its groups, its login) run in a second pass and logout in a third, each with its own
session, so that a fuzzer lowering its own rate limit or logging itself out does not blind the rest.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.conftest import login, platform_admin, tenant_admin

# Examples per operation: 10 keeps CI's run near two minutes per caller; CONTRACT_EXAMPLES=50 for a
# deeper one (the figure issue 25 quotes).
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "10"))
pytestmark = [pytest.mark.slow, pytest.mark.once]

CONFIG = Path(__file__).with_name("schemathesis.toml")
# What a fuzzer may do to the caller itself: lower its tenant's rate limits, take its group's grants
# or membership away, change its own login (the second pass), end its session (the last).
SELF_AFFECTING = (r"^/v1/(config|users/\{id\}(/status)?"
                  r"|groups/\{id\}/(status|users/\{userId\}|permissions/\{permissionId\}))$")
SESSION_ENDING = r"^/v1/auth/logout$"
PASSES = [
    # One regex per option: schemathesis keeps only the last of a repeated --exclude-path-regex.
    ("main", ["--exclude-path-regex", f"{SELF_AFFECTING}|{SESSION_ENDING}"]),
    ("self", ["--include-path-regex", SELF_AFFECTING]),
    ("logout", ["--include-path-regex", SESSION_ENDING]),
]


ACCEPTED = '"2xx", "3xx", "401", "403", "404", "409", "429", "5xx"'


def _config(hub, directory: Path) -> Path:
    """schemathesis.toml, plus 422 as an answer to valid input on exactly the operations whose schema
    documents UNPROCESSABLE."""
    status, body, _ = hub.call("GET", "/v1/openapi.json")  # application/vnd.oai.openapi+json: read as text
    assert status == 200
    schema = json.loads(body["text"])
    sections = [
        f'[[operations]]\ninclude-name = "{method.upper()} {path}"\n'
        f'checks.positive_data_acceptance.expected-statuses = [{ACCEPTED}, "422"]\n'
        for path, operations in schema["paths"].items() for method, operation in operations.items()
        if "UNPROCESSABLE" in operation.get("responses", {}).get("422", {}).get("description", "")
    ]
    assert sections, "no operation documents UNPROCESSABLE: the schema or this test changed"
    config = directory / "schemathesis.toml"
    config.write_text(CONFIG.read_text() + "\n" + "\n".join(sections))
    return config


def _schemathesis(hub, config: Path, token: str, report: Path, *filters: str) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).with_name("st")), "--no-color", "--config-file", str(config), "run",
        f"{hub.base}/v1/openapi.json", "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(EXAMPLES), "--workers", "1", "--request-timeout", "30",
        "--report", "junit", "--report-junit-path", str(report), *filters,
        # Each run follows from the seed alone: no examples kept from an earlier run.
        "--generation-database", "none",
    ]
    # Run beside its reports: schemathesis keeps a cache directory wherever it runs.
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=report.parent)


@pytest.mark.parametrize("caller", [platform_admin, tenant_admin], ids=["platform admin", "tenant admin"])
def test_the_hub_answers_what_its_schema_promises(live_hub, caller, tmp_path):
    hub, (tenant, email) = live_hub, caller()
    # Every pass's session before the first: a pass may change the caller's password or e-mail.
    tokens = [login(hub, tenant, email) for _ in PASSES]
    config = _config(hub, tmp_path)
    runs = [_schemathesis(hub, config, token, tmp_path / f"{name}.xml", *filters)
            for token, (name, filters) in zip(tokens, PASSES, strict=True)]
    for run in runs:
        print(run.stdout, run.stderr)
    for run in runs:
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
