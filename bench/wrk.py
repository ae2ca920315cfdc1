"""Load from a second process: wrk against the hub, in the shape every figure of the bench shares."""

import os
import random
import re
import statistics
import subprocess
from dataclasses import dataclass

from bench.common import CORES

__all__ = ["CONNECTIONS", "READ_CYCLES", "READ_SLICE_SECONDS", "SECONDS", "WRITE_FIRST_SECONDS", "WRITE_SLICES",
           "WRITE_SLICE_SECONDS", "Bracketed", "Load", "median_load", "wrk"]

CONNECTIONS = 4 * CORES
READ_CYCLES = 6
WRITE_SLICES = 16
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# This host's speed drifts by a fifth within seconds: every slice of a route or of the shipped server
# is short and lies between two slices of its floor, which thus ran at the same moment (Bracketed).
READ_SLICE_SECONDS = WRITE_SLICE_SECONDS = max(1, SECONDS // 5)
WRITE_FIRST_SECONDS = 3 * SECONDS


@dataclass
class Load:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, *, token: str = "", script: str | None = None, seconds: int = SECONDS, warm_up: bool = True) -> Load:
    command = ["wrk", "-t", str(CORES), "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    if script:
        command += ["-s", script]
    if warm_up:
        subprocess.run([*command[:5], "-d", "2s", *command[7:], url, *_script_seed(script)], capture_output=True,
                       check=True)
    output = subprocess.run([*command, url, *_script_seed(script)], capture_output=True, text=True, check=True).stdout
    percentile = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Load(
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(percentile["50"]),
        p99_ms=_ms(percentile["99"]),
        errors=(int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    )


def _script_seed(script: str | None) -> list[str]:
    """Arguments giving a script's run a seed of its own (patch_script)."""
    return ["--", str(random.randrange(10**9))] if script else []


@dataclass
class Bracketed:
    """Slices of a route or a server, and the slices of its floor run just before and just after each."""

    loads: list[Load]
    floors_around: list[tuple[Load, Load]]

    def ratios(self) -> list[float]:
        return [load.rate / statistics.mean((before.rate, after.rate))
                for load, (before, after) in zip(self.loads, self.floors_around, strict=True)]


def median_load(loads: list[Load]) -> Load:
    """Medians of the runs, and every error of every run."""
    return Load(rate=statistics.median(load.rate for load in loads),
                p50_ms=statistics.median(load.p50_ms for load in loads),
                p99_ms=statistics.median(load.p99_ms for load in loads), errors=sum(load.errors for load in loads))
