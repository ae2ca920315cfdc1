"""The Python SDK's decisions on a warm cache: `Hub.can` answered from its in-process snapshot of a
user's permissions (fetched once from the live bench hub), one thread, an allowed and a denied
action in turn. Imported by bench/run.py."""

import statistics
import time

from aza8_hub import Hub

__all__ = ["GOAL", "can_rate"]

GOAL = 50_000  # decisions per second, issue 27
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
