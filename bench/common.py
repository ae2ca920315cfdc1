"""What every bench process shares: where the bench runs, and Django set up against it.

Importing this module configures the environment (bench database, Redis cache when it answers,
limits lifted) and calls django.setup(); child processes inherit the same environment.
"""

import os
import re
import socket
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

CORES = os.cpu_count() or 2
# Redis databases of the bench: its cache, the broker of its Redis pipeline run, and the broker its
# web servers publish drain triggers to (kept apart, so that the pipeline's worker does not start
# with a backlog of the write figure's triggers).
REDIS_CACHE = os.environ.get("BENCH_REDIS_CACHE", "redis://127.0.0.1:6379/8")
REDIS_BROKER = os.environ.get("BENCH_REDIS_BROKER", "redis://127.0.0.1:6379/9")
REDIS_WEB_BROKER = os.environ.get("BENCH_REDIS_WEB_BROKER", "redis://127.0.0.1:6379/10")

__all__ = ["CORES", "PROJECT", "REDIS_BROKER", "REDIS_CACHE", "REDIS_WEB_BROKER", "child_env", "child_pids", "peak_rss_mib",
           "redis_answers"]


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def redis_answers() -> bool:
    return _answers(6379)


def _environment() -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HUB_DATA_DIR": str(PROJECT / ".data" / "bench"),
        # The load is the point: per-tenant limits would answer 429 after the first second.
        "RATE_LIMIT_READ_PER_MINUTE": str(10**9),
        "RATE_LIMIT_WRITE_PER_MINUTE": str(10**9),
        "RATE_LIMIT_AUTH_PER_MINUTE": str(10**9),
        "RATE_LIMIT_PRODUCT_PER_MINUTE": str(10**9),
        "ACCESS_TOKEN_LIFETIME_MINUTES": "60",
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "LOG_LEVEL": "WARNING",
    }
    if not os.environ.get("DATABASE_URL") and _answers(5432):
        env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_bench")
    if not os.environ.get("CACHE_URL") and redis_answers():
        env["CACHE_URL"] = REDIS_CACHE
    return env


os.environ.update(_environment())

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402


def child_env(**extra) -> dict:
    """The environment of a hub process started by the bench: this one's, on this one's database."""
    from tests.runtime import database_url

    return {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "USAGE_FLUSH_SECONDS": "5", **extra}


def child_pids(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
