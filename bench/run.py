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
READ_CYCLES = 6
WRITE_SLICES = 16
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
# This host's speed drifts by a fifth within seconds: every slice of a route or of the shipped server
# is short and lies between two slices of its floor, which thus ran at the same moment (Bracketed).
READ_SLICE_SECONDS = WRITE_SLICE_SECONDS = max(1, SECONDS // 5)
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
from config.settings import _sqlalchemy_broker_url  # noqa: E402
from identity.models import User  # noqa: E402
from identity.sessions import login  # noqa: E402
from operations.management.commands.runhub import web_command  # noqa: E402
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


@dataclass
class Bracketed:
    """Slices of a route or a server, and the slices of its floor run just before and just after each."""

    loads: list[Load]
    floors_around: list[tuple[Load, Load]]

    def ratios(self) -> list[float]:
        return [load.rate / statistics.mean((before.rate, after.rate))
                for load, (before, after) in zip(self.loads, self.floors_around, strict=True)]


def read_cycles(base_url: str, floor_path: str, routes: dict[str, tuple[str, str]]) -> tuple[list[Load], dict[str, Bracketed]]:
    """The floor's slices and the routes', in READ_CYCLES cycles: the floor runs first and again after
    every route, and a route's ratio in a cycle is its rate over the mean of the floor's just before
    and just after it. Rounds of one long run of each route, the floor first, swung a list's ratio
    by ±0.1 (0.61 / 0.47 / 0.49 in one run): a route measured half a minute after its floor met
    another host. Bracketed 2-second slices gave a standard deviation of 0.02 per cycle."""
    for path, token in [(floor_path, ""), *routes.values()]:
        wrk(f"{base_url}{path}", token=token, seconds=2, warm_up=False)
    floor, reads = [], {name: Bracketed([], []) for name in routes}
    for _cycle in range(READ_CYCLES):
        floor.append(wrk(f"{base_url}{floor_path}", seconds=READ_SLICE_SECONDS, warm_up=False))
        for name, (path, token) in routes.items():
            load = wrk(f"{base_url}{path}", token=token, seconds=READ_SLICE_SECONDS, warm_up=False)
            floor.append(wrk(f"{base_url}{floor_path}", seconds=READ_SLICE_SECONDS, warm_up=False))
            reads[name].loads.append(load)
            reads[name].floors_around.append((floor[-2], floor[-1]))
    return floor, reads


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


def write_slices(token: str, script: str) -> tuple[dict[str, Load], Bracketed, list[Load]]:
    """The hub as shipped against the bare hub (the floor), both servers running side by side, idle
    but for the one under load: WRITE_SLICES short slices of the shipped one, each between two of the
    bare one's, give one cost each (Bracketed). Rounds of 5 s per side gave costs from 0 to 15 % in
    one run (standard deviation ~5 points); bracketed 2-second slices ~3.

    The slices measure a database in service: on a freshly loaded one the first few thousand
    audited writes cost more than the ones after (most likely page splits: bench/data.py bulk-loads
    the audit log, which leaves its indexes packed full, while a hub in service grew them one entry
    at a time). So each server first writes for WRITE_FIRST_SECONDS, reported apart, and the
    database is vacuumed before the slices."""
    servers = {"without": Web(DJANGO_SETTINGS_MODULE="bench.bare_settings"), "with": Web(DJANGO_SETTINGS_MODULE="config.settings")}

    def write(side: str, seconds: int = WRITE_SLICE_SECONDS) -> Load:
        return wrk(f"{servers[side].url}/v1/users", token=token, script=script, seconds=seconds, warm_up=False)

    try:
        first = {side: write(side, WRITE_FIRST_SECONDS) for side in servers}
        data.vacuum()
        bare, shipped = [write("without")], Bracketed([], [])
        for _slice in range(WRITE_SLICES):
            shipped.loads.append(write("with"))
            bare.append(write("without"))
            shipped.floors_around.append((bare[-2], bare[-1]))
    finally:
        for server in servers.values():
            server.stop()
    return first, shipped, bare


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
            "GET /v1/me (JWT)": ("/v1/me", big_token),
            "GET /v1/users?limit=50 (JWT)": ("/v1/users?limit=50", big_token),
            "GET /v1/me (API key)": ("/v1/me", loaded.api_key),
            "GET /v1/users?limit=50 (API key)": ("/v1/users?limit=50", loaded.api_key),
            "GET /v1/audit-logs?limit=50, 1,000 rows": ("/v1/audit-logs?limit=50", small_token),
            "GET /v1/audit-logs?limit=50, 1,000,000 rows": ("/v1/audit-logs?limit=50", big_token),
        }
        floor, reads = read_cycles(web.url, "/health", routes)
        script = patch_script(user_ids)
        wrk(f"{web.url}/v1/users", token=big_token, script=script)  # the peak RSS includes writes
        web_rss = max(peak_rss_mib(pid) for pid in web.worker_pids())
    finally:
        web.stop()
    first_writes, shipped, bare = write_slices(big_token, script)

    data.vacuum()
    brokers = {"PostgreSQL fallback": _sqlalchemy_broker_url(settings.DATABASES["default"])}
    if redis_answers():
        brokers = {"Redis": REDIS_BROKER, **brokers}
    pipelines = [pipeline(name, url) for name, url in brokers.items()]

    report = render(floor, reads, first_writes, shipped, bare, web_rss, pipelines, time.monotonic() - started)
    results = PROJECT / "bench" / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.now(UTC):%Y-%m-%d}.md"
    path.write_text(report)
    print(report)
    print(f"written to {path.relative_to(PROJECT)} in {time.monotonic() - started:.0f} s")


def _read_row(route: str, loads: list[Load], against: float, ratios: list[float], verdict: str) -> str:
    load = _median(loads)
    return (f"| {route} | {load.rate:.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | {against:.3f}× | "
            f"{' / '.join(f'{value:.2f}' for value in ratios)} | {verdict} |")


def _write_row(server: str, loads: list[Load]) -> str:
    load = _median(loads)
    return (f"| {server} | {load.rate:.0f} | {' / '.join(f'{run.rate:.0f}' for run in loads)} | {load.p50_ms:.1f} | "
            f"{load.errors} |")


def _median(loads: list[Load]) -> Load:
    """Medians of the runs, and every error of every run."""
    return Load(rate=statistics.median(load.rate for load in loads),
                p50_ms=statistics.median(load.p50_ms for load in loads),
                p99_ms=statistics.median(load.p99_ms for load in loads), errors=sum(load.errors for load in loads))


def render(floor: list[Load], reads: dict[str, Bracketed], first_writes: dict, shipped: Bracketed, bare: list[Load], web_rss: float,
           pipelines: list[dict], elapsed: float) -> str:
    lines = [
        f"# Benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"{CORES} cores; gunicorn with {CORES} sync workers; wrk with {CORES} threads and {CONNECTIONS} connections, "
        f"reads in {READ_CYCLES} cycles of every route, {READ_SLICE_SECONDS} s each, the floor before and after "
        f"each (medians; a route's ratio is the median of its cycles' ratios to the mean of the floor on either "
        f"side), writes in {WRITE_SLICES} slices of {WRITE_SLICE_SECONDS} s of the shipped server, each between "
        f"two of the bare one's (the cost is the median of the slices'); "
        f"PostgreSQL database `{settings.DATABASES['default']['NAME']}` (autovacuum {data.autovacuum()}; the bench "
        f"runs `VACUUM (ANALYZE)` after loading, after the first writes and before the webhook figure); "
        f"cache {'Redis' if 'CACHE_URL' in os.environ else 'PostgreSQL'}; "
        f"web servers' broker {'Redis' if WEB_BROKER else 'the PostgreSQL fallback'}. "
        f"Data: {Tenant.objects.count()} tenants, {User.objects.count()} users, "
        f"{data.BIG_AUDIT:,} audit entries in one tenant. Run took {elapsed:.0f} s.",
        "",
        "## 1. Reads against the floor (`GET /health`: framework + one query)",
        "",
        "| Route | req/s | p50 ms | p99 ms | errors | vs floor | per cycle | goal |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    goals = {"GET /v1/me (JWT)": 0.7, "GET /v1/users?limit=50 (JWT)": 0.5, "GET /v1/me (API key)": 0.7,
             "GET /v1/users?limit=50 (API key)": 0.5}
    lines.append(_read_row("GET /health", floor, 1.0, [], ""))
    for name, route in reads.items():
        goal, ratios = goals.get(name), route.ratios()
        against = statistics.median(ratios)
        verdict = "" if goal is None else f"≥ {goal}× {'✅' if against >= goal else '❌'}"
        lines.append(_read_row(name, route.loads, against, ratios, verdict))
    slice_costs = [(1 - ratio) * 100 for ratio in shipped.ratios()]
    cost = statistics.median(slice_costs)
    small = reads["GET /v1/audit-logs?limit=50, 1,000 rows"].loads
    big = reads["GET /v1/audit-logs?limit=50, 1,000,000 rows"].loads
    audit_ratios = [at_million.p50_ms / at_thousand.p50_ms for at_million, at_thousand in zip(big, small, strict=True)]
    audit_ratio = statistics.median(audit_ratios)
    lines += [
        "",
        "## 2. Cost of usage counting and audit on a write route (`PATCH /v1/users/{id}`)",
        "",
        "| Server | req/s (median of slices) | slices, in the order run | p50 ms (median) | errors |",
        "|---|---:|---|---:|---:|",
        _write_row("hub as shipped", shipped.loads),
        _write_row("without usage middleware and audit writes (`bench/bare_settings.py`)", bare),
        "",
        f"Cost: **{cost:.1f} %** (goal ≤ 10 % {'✅' if cost <= 10 else '❌'}); per slice of the shipped server: "
        f"{' / '.join(f'{value:.1f}' for value in slice_costs)} %.",
        "",
        f"Before the slices, each server wrote for {WRITE_FIRST_SECONDS} s: "
        f"{first_writes['with'].rate:.0f} req/s as shipped, {first_writes['without'].rate:.0f} bare, a cost of "
        f"{(1 - first_writes['with'].rate / first_writes['without'].rate) * 100:.1f} % (one run each, one after the "
        f"other; not the goal's figure).",
        "",
        "## 3. Audit list at a million rows",
        "",
        f"p50 {_median(big).p50_ms:.1f} ms at 1,000,000 rows vs {_median(small).p50_ms:.1f} ms at 1,000 (medians); "
        f"the median of the cycles' ratios **{audit_ratio:.2f}×** (goal ≤ 1.5× {'✅' if audit_ratio <= 1.5 else '❌'}); "
        f"per cycle: {' / '.join(f'{value:.2f}' for value in audit_ratios)}.",
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
