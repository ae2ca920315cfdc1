"""`make bench`: how fast the hub is, each figure against its own floor measured in the same run.

Starts the hub with gunicorn (one worker per core) on real PostgreSQL — the machine's server when it
answers on 127.0.0.1:5432 (database `hub_bench`, recreated), else an embedded one in .data/bench —
loads bench/data.py, drives load with wrk from a separate process, runs the webhook pipeline with
real Celery workers on each broker it can reach, and writes bench/results/<date>.md.
"""

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    CORES,
    PROJECT,
    REDIS_BROKER,
    REDIS_CACHE,
    REDIS_WEB_BROKER,
    child_env,
    child_pids,
    peak_rss_mib,
    redis_answers,
)

CONNECTIONS = 4 * CORES
READ_ROUNDS = 3
WRITE_ROUNDS = 8
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# Each figure runs once per round, so that drift of a shared host falls on floor and routes alike.
READ_SECONDS = WRITE_SECONDS = max(1, SECONDS // 2)
WRITE_FIRST_SECONDS = 3 * SECONDS
# The web servers publish to the broker production gives them, Redis when it answers (like the
# cache): on the PostgreSQL fallback kombu's SQLAlchemy transport adds ~20 MiB to every web worker
# (docs/scaling.md#memory).
WEB_BROKER = {"CELERY_BROKER_URL": REDIS_WEB_BROKER} if redis_answers() else {}

# After bench.common, which sets Django up.
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench import data  # noqa: E402
from config.management.commands.runhub import web_command  # noqa: E402
from config.settings import _sqlalchemy_broker_url  # noqa: E402
from identity.models import User  # noqa: E402
from identity.sessions import login  # noqa: E402
from tenancy.models import Tenant  # noqa: E402

# --- The database -------------------------------------------------------------------------------


def recreate_database() -> None:
    """Start from an empty database (and empty Redis databases) every run, so the figures never
    depend on an earlier one."""
    if redis_answers():
        import redis

        for url in (REDIS_CACHE, REDIS_BROKER, REDIS_WEB_BROKER):
            redis.Redis.from_url(url).flushdb()
    name = settings.DATABASES["default"]["NAME"]
    connection.close()
    with connections["default"]._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)


# --- Processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Web:
    """gunicorn as `make run` and the image start it, one worker per core."""

    def __init__(self, **extra_env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", *web_command(f"127.0.0.1:{self.port}", CORES)],
            cwd=PROJECT, env=child_env(**WEB_BROKER, **extra_env), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /health within 60 s")

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


# --- Load with wrk ------------------------------------------------------------------------------


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


def patch_script(user_ids: list[str]) -> str:
    """A wrk script renaming random users of the tenant: every request really changes a row.

    wrk gives each thread its own Lua state, and each state's generator starts from the same seed:
    unseeded, the threads would rename the same users to the same names in lockstep, and half the
    requests would wait on the other thread's row lock or find nothing left to change. So each
    thread is seeded apart, from the seed `wrk` passes each run, and a name carries that seed and the
    thread as well as the count."""
    ids = ", ".join(f'"{user_id}"' for user_id in user_ids)
    path = Path(tempfile.mkdtemp(prefix="hub-bench-")) / "patch.lua"
    path.write_text(
        f"""
local ids = {{{ids}}}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
function init(args)
  run = args[1] .. "-" .. thread_number
  math.randomseed(tonumber(args[1]) * 1000 + thread_number)
  counter = 0
end
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = '{{"name": "Bench ' .. run .. '-' .. counter .. '"}}'
  return wrk.format(nil, "/v1/users/" .. ids[math.random(#ids)], nil, body)
end
"""
    )
    return str(path)


def write_rounds(token: str, script: str) -> tuple[dict[str, Load], dict[str, list[Load]]]:
    """Both servers run side by side, idle but for the one under load, and take turns in short runs
    (the order flipping every round), so that a host slowing down for a minute falls on both sides
    alike; each round gives one ratio.

    The rounds measure a database in service: on a freshly loaded one the first few thousand
    audited writes cost more than the ones after (most likely page splits: bench/data.py bulk-loads
    the audit log, which leaves its indexes packed full, while a hub in service grew them one entry
    at a time). So each server first writes for WRITE_FIRST_SECONDS, reported apart, and the
    database is vacuumed before the rounds."""
    servers = {"without": Web(DJANGO_SETTINGS_MODULE="bench.bare_settings"), "with": Web(DJANGO_SETTINGS_MODULE="config.settings")}
    writes = {side: [] for side in servers}
    try:
        first = {side: wrk(f"{server.url}/v1/users", token=token, script=script, seconds=WRITE_FIRST_SECONDS)
                 for side, server in servers.items()}
        data.vacuum()
        for number in range(WRITE_ROUNDS):
            for side in ("without", "with") if number % 2 == 0 else ("with", "without"):
                writes[side].append(wrk(f"{servers[side].url}/v1/users", token=token, script=script,
                                        seconds=WRITE_SECONDS, warm_up=False))
    finally:
        for server in servers.values():
            server.stop()
    return first, writes


# --- The webhook pipeline, one process per broker (the publisher must use the worker's broker) ---


def pipeline(broker: str, url: str) -> dict:
    print(f"webhook pipeline on {broker} ...", flush=True)
    result = subprocess.run([sys.executable, "-m", "bench.pipeline", broker], cwd=PROJECT, check=True,
                            env=child_env(CELERY_BROKER_URL=url), capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- The run ------------------------------------------------------------------------------------


def access_token(slug: str) -> str:
    return login(tenant_slug=slug, email=data.BenchData.admin_email(slug), password=data.PASSWORD,
                 ip="127.0.0.1").access_token


def main() -> None:
    started = time.monotonic()
    print(f"database: {settings.DATABASES['default']['NAME']} on {settings.DATABASES['default']['HOST'] or 'socket'}")
    recreate_database()
    loaded = data.load()
    print(f"loaded in {time.monotonic() - started:.0f} s: {Tenant.objects.count()} tenants, "
          f"{User.objects.count()} users")
    big_token, small_token = access_token(loaded.big), access_token(loaded.small)
    user_ids = [str(pk) for pk in User.objects.filter(tenant__slug=loaded.big).values_list("pk", flat=True)[:50]]

    web = Web()
    try:
        routes = {
            "GET /health": ("/health", ""),
            "GET /v1/me (JWT)": ("/v1/me", big_token),
            "GET /v1/users?limit=50 (JWT)": ("/v1/users?limit=50", big_token),
            "GET /v1/me (API key)": ("/v1/me", loaded.api_key),
            "GET /v1/users?limit=50 (API key)": ("/v1/users?limit=50", loaded.api_key),
            "GET /v1/audit-logs?limit=50, 1,000 rows": ("/v1/audit-logs?limit=50", small_token),
            "GET /v1/audit-logs?limit=50, 1,000,000 rows": ("/v1/audit-logs?limit=50", big_token),
        }
        reads = {name: [] for name in routes}
        for _round in range(READ_ROUNDS):
            for name, (path, token) in routes.items():
                reads[name].append(wrk(f"{web.url}{path}", token=token, seconds=READ_SECONDS))
        script = patch_script(user_ids)
        wrk(f"{web.url}/v1/users", token=big_token, script=script)  # the peak RSS includes writes
        web_rss = max(peak_rss_mib(pid) for pid in web.worker_pids())
    finally:
        web.stop()
    first_writes, writes = write_rounds(big_token, script)

    data.vacuum()
    brokers = {"PostgreSQL fallback": _sqlalchemy_broker_url(settings.DATABASES["default"])}
    if redis_answers():
        brokers = {"Redis": REDIS_BROKER, **brokers}
    pipelines = [pipeline(name, url) for name, url in brokers.items()]

    report = render(reads, first_writes, writes, web_rss, pipelines, time.monotonic() - started)
    results = PROJECT / "bench" / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.now(UTC):%Y-%m-%d}.md"
    path.write_text(report)
    print(report)
    print(f"written to {path.relative_to(PROJECT)} in {time.monotonic() - started:.0f} s")


def _rates(loads: list[Load]) -> str:
    return " / ".join(f"{load.rate:.0f}" for load in loads)


def _median(loads: list[Load]) -> Load:
    """Medians of the runs, and every error of every run."""
    return Load(rate=statistics.median(load.rate for load in loads),
                p50_ms=statistics.median(load.p50_ms for load in loads),
                p99_ms=statistics.median(load.p99_ms for load in loads), errors=sum(load.errors for load in loads))


def render(reads: dict, first_writes: dict, writes: dict, web_rss: float, pipelines: list[dict], elapsed: float) -> str:
    floor = reads["GET /health"]
    lines = [
        f"# Benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"{CORES} cores; gunicorn with {CORES} sync workers; wrk with {CORES} threads and {CONNECTIONS} connections, "
        f"reads in {READ_ROUNDS} rounds of every route, {READ_SECONDS} s each after a 2 s warm-up (medians; a "
        f"route's ratio is the median of its ratios to the floor of the same round), writes in {WRITE_ROUNDS} "
        f"rounds of {WRITE_SECONDS} s per server (the cost is the median of the rounds'); "
        f"PostgreSQL database `{settings.DATABASES['default']['NAME']}` (autovacuum {data.autovacuum()}; the bench "
        f"runs `VACUUM (ANALYZE)` after loading, after the first writes and before the webhook figure); "
        f"cache {'Redis' if 'CACHE_URL' in os.environ else 'PostgreSQL'}; "
        f"web servers' broker {'Redis' if WEB_BROKER else 'the PostgreSQL fallback'}. "
        f"Data: {Tenant.objects.count()} tenants, {User.objects.count()} users, "
        f"{data.BIG_AUDIT:,} audit entries in one tenant. Run took {elapsed:.0f} s.",
        "",
        "## 1. Reads against the floor (`GET /health`: framework + one query)",
        "",
        "| Route | req/s | p50 ms | p99 ms | errors | vs floor | per round | goal |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    goals = {"GET /v1/me (JWT)": 0.7, "GET /v1/users?limit=50 (JWT)": 0.5, "GET /v1/me (API key)": 0.7,
             "GET /v1/users?limit=50 (API key)": 0.5}
    for name, loads in reads.items():
        load, goal = _median(loads), goals.get(name)
        ratios = [run.rate / floor_run.rate for run, floor_run in zip(loads, floor, strict=True)]
        against = statistics.median(ratios)
        verdict = "" if goal is None else f"≥ {goal}× {'✅' if against >= goal else '❌'}"
        lines.append(f"| {name} | {load.rate:.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | "
                     f"{against:.3f}× | {' / '.join(f'{value:.2f}' for value in ratios)} | {verdict} |")
    with_rate = statistics.median(load.rate for load in writes["with"])
    without_rate = statistics.median(load.rate for load in writes["without"])
    round_costs = [(1 - shipped.rate / bare.rate) * 100 for shipped, bare in zip(writes["with"], writes["without"], strict=True)]
    cost = statistics.median(round_costs)
    small = _median(reads["GET /v1/audit-logs?limit=50, 1,000 rows"])
    big = _median(reads["GET /v1/audit-logs?limit=50, 1,000,000 rows"])
    lines += [
        "",
        "## 2. Cost of usage counting and audit on a write route (`PATCH /v1/users/{id}`)",
        "",
        "| Server | req/s (median of runs) | runs | p50 ms (median) | errors |",
        "|---|---:|---|---:|---:|",
        f"| hub as shipped | {with_rate:.0f} | {_rates(writes['with'])} | "
        f"{statistics.median(load.p50_ms for load in writes['with']):.1f} | {sum(load.errors for load in writes['with'])} |",
        f"| without usage middleware and audit writes (`bench/bare_settings.py`) | {without_rate:.0f} | "
        f"{_rates(writes['without'])} | {statistics.median(load.p50_ms for load in writes['without']):.1f} | "
        f"{sum(load.errors for load in writes['without'])} |",
        "",
        f"Cost: **{cost:.1f} %** (goal ≤ 10 % {'✅' if cost <= 10 else '❌'}); per round: "
        f"{' / '.join(f'{value:.1f}' for value in round_costs)} %.",
        "",
        f"Before the rounds, each server wrote for {WRITE_FIRST_SECONDS} s: "
        f"{first_writes['with'].rate:.0f} req/s as shipped, {first_writes['without'].rate:.0f} bare, a cost of "
        f"{(1 - first_writes['with'].rate / first_writes['without'].rate) * 100:.1f} % (one run each, one after the "
        f"other; not the goal's figure).",
        "",
        "## 3. Audit list at a million rows",
        "",
        f"p50 {big.p50_ms:.1f} ms at 1,000,000 rows vs {small.p50_ms:.1f} ms at 1,000: "
        f"**{big.p50_ms / small.p50_ms:.2f}×** (goal ≤ 1.5× {'✅' if big.p50_ms / small.p50_ms <= 1.5 else '❌'}).",
        "",
        "## 4. Webhook pipeline (outbox → Celery → loopback receiver)",
        "",
        f"Rounds of 1,000 events committed in one transaction, each followed by the plain client posting the "
        f"same signed payloads with as many senders; one worker with {CORES} processes × "
        f"{settings.WEBHOOK_DELIVERY_CONCURRENCY} threads. Timers start at the commit; the ratio is the median "
        f"of the rounds'.",
        "",
        "| Broker | deliveries/s | plain client/s | ratio (per round) | commit-to-delivery p50 ms | p95 ms | goal |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for result in pipelines:
        limit = 500 if result["broker"] == "Redis" else 1000
        against = statistics.median(result["ratios"])
        ok = against >= 0.5 and result["p50_ms"] < limit
        lines.append(f"| {result['broker']} | {result['rate']:.0f} | {result['plain_rate']:.0f} | "
                     f"{against:.3f}× ({' / '.join(f'{value:.2f}' for value in result['ratios'])}) | "
                     f"{result['p50_ms']:.0f} | {result['p95_ms']:.0f} | ≥ 0.5×, p50 < {limit} ms {'✅' if ok else '❌'} |")
    worker_rss = max(result["worker_rss_mib"] for result in pipelines)
    lines += [
        "",
        "## 5. Memory",
        "",
        f"Peak RSS of a web worker: **{web_rss:.0f} MiB** (goal ≤ 120 MiB {'✅' if web_rss <= 120 else '❌'}); "
        f"of a Celery worker process: **{worker_rss:.0f} MiB**.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
