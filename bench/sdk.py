"""The SDKs' speed against the live bench hub. Python: `Hub.can` answered from its in-process snapshot
of a user's permissions (fetched once), one thread, an allowed and a denied action in turn. Node
(clients/typescript/bench/bench.ts, issue 28): the same for `hub.can`, and offline `hub.verify`.
Imported by bench/run.py."""

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from aza8_hub import Hub

from tests.node import npm, npm_installed

__all__ = ["GOAL", "NODE_CAN_GOAL", "NODE_VERIFY_GOAL", "can_rate", "node_rates"]

GOAL = 50_000  # decisions per second, issue 27
NODE_CAN_GOAL = 100_000  # decisions per second in Node, issue 28
NODE_VERIFY_GOAL = 5_000  # tokens per second in Node, issue 28
TYPESCRIPT_SDK = Path(__file__).resolve().parents[1] / "clients" / "typescript"
ROUNDS = 5
CALLS = 200_000  # per round: well inside the snapshot's lifetime at the goal's rate


def can_rate(base_url: str, credential: str, token: str, *, allowed: str, denied: str) -> dict:
    with Hub(base_url=base_url, tool=allowed.split(".", 1)[0], credential=credential) as hub:
        principal = hub.verify(token)
        assert hub.can(principal, allowed) and not hub.can(principal, denied), "the bench user's snapshot is wrong"
        rates = []
        for _round in range(ROUNDS):
            started = time.perf_counter()
            for _pair in range(CALLS // 2):
                hub.can(principal, allowed)
                hub.can(principal, denied)
            rates.append(CALLS / (time.perf_counter() - started))
    return {"rates": rates, "rate": statistics.median(rates)}


def node_rates(base_url: str, credential: str, token: str, *, allowed: str, denied: str) -> dict:
    """{"can": {rates, rate, calls}, "verify": {…}, "rounds", "node"} from the Node bench, built first."""
    npm_installed(TYPESCRIPT_SDK)
    npm(TYPESCRIPT_SDK, "run", "build")
    npm(TYPESCRIPT_SDK, "run", "build:test")
    env = {**os.environ, "HUB_URL": base_url, "HUB_CREDENTIAL": credential, "HUB_TOKEN": token, "ALLOWED": allowed,
           "DENIED": denied}
    run = subprocess.run(["node", "build/bench/bench.js"], cwd=TYPESCRIPT_SDK, env=env, capture_output=True, text=True,
                         timeout=600)
    if run.returncode:
        raise RuntimeError(f"the Node bench failed:\n{run.stderr[-4000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])
