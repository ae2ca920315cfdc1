"""`make bench`: how fast the hub is, each figure against its own floor measured in the same run.

Starts the hub with gunicorn (one worker per core) on real PostgreSQL — the machine's server when it
answers on 127.0.0.1:5432 (database `hub_bench`, recreated), else an embedded one in .data/bench —
loads bench/data.py, drives load with wrk from a separate process, runs the webhook pipeline with
real Celery workers on each broker it can reach, and writes bench/results/<date>.md.
"""

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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
from bench.wrk import (
    READ_CYCLES,
    READ_SLICE_SECONDS,
    WRITE_FIRST_SECONDS,
    WRITE_SLICE_SECONDS,
    WRITE_SLICES,
    Bracketed,
    Load,
    wrk,
)

# The web servers publish to the broker production gives them, Redis when it answers (like the
# cache): on the PostgreSQL fallback kombu's SQLAlchemy transport adds ~20 MiB to every web worker
# (docs/scaling.md#memory).
WEB_BROKER = {"CELERY_BROKER_URL": REDIS_WEB_BROKER} if redis_answers() else {}

# After bench.common, which sets Django up.
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench import data, sdk  # noqa: E402
from bench.report import render  # noqa: E402
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


# --- Load with wrk (bench/wrk.py) ----------------------------------------------------------------
def read_cycles(base_url: str, floor_path: str, routes: dict[str, tuple]) -> tuple[list[Load], dict[str, Bracketed]]:
    """The floor's slices and the routes', in READ_CYCLES cycles: the floor runs first and again after
    every route, and a route's ratio in a cycle is its rate over the mean of the floor's just before
    and just after it. Rounds of one long run of each route, the floor first, swung a list's ratio
    by ±0.1 (0.61 / 0.47 / 0.49 in one run): a route measured half a minute after its floor met
    another host. Bracketed 2-second slices gave a standard deviation of 0.02 per cycle.

    A route is (path, token), or (path, token, script) for one that needs a wrk script (request_script)."""
    for path, token, *script in [(floor_path, ""), *routes.values()]:
        wrk(f"{base_url}{path}", token=token, script=next(iter(script), None), seconds=2, warm_up=False)
    floor, reads = [], {name: Bracketed([], []) for name in routes}
    for _cycle in range(READ_CYCLES):
        floor.append(wrk(f"{base_url}{floor_path}", seconds=READ_SLICE_SECONDS, warm_up=False))
        for name, (path, token, *script) in routes.items():
            load = wrk(f"{base_url}{path}", token=token, script=next(iter(script), None), seconds=READ_SLICE_SECONDS,
                       warm_up=False)
            floor.append(wrk(f"{base_url}{floor_path}", seconds=READ_SLICE_SECONDS, warm_up=False))
            reads[name].loads.append(load)
            reads[name].floors_around.append((floor[-2], floor[-1]))
    return floor, reads


def request_script(method: str, headers: dict[str, str], body: dict | None = None) -> str:
    """A wrk script sending every request with this method, these headers and this JSON body."""
    lines = [f'wrk.method = "{method}"', *(f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items())]
    if body is not None:
        lines += ['wrk.headers["Content-Type"] = "application/json"', f"wrk.body = [[{json.dumps(body)}]]"]
    path = Path(tempfile.mkdtemp(prefix="hub-bench-")) / "request.lua"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


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
    # A product asking about the big tenant's admin, in that tenant.
    as_product = {"X-Tenant-Id": str(Tenant.objects.get(slug=loaded.big).pk)}
    admin_id = str(User.objects.get(email=data.BenchData.admin_email(loaded.big)).pk)
    check = {"subject": {"userId": admin_id}, "toolActions": ["erp.vehicles.read", "erp.reports.read"]}

    web = Web()
    try:
        routes = {
            "GET /v1/me (JWT)": ("/v1/me", big_token),
            "GET /v1/users?limit=50 (JWT)": ("/v1/users?limit=50", big_token),
            "GET /v1/me (API key)": ("/v1/me", loaded.api_key),
            "GET /v1/users?limit=50 (API key)": ("/v1/users?limit=50", loaded.api_key),
            "POST /v1/authz/check (JWT)": ("/v1/authz/check", big_token, request_script(
                "POST", {}, {"toolActions": check["toolActions"]})),
            "POST /v1/authz/check (product)": ("/v1/authz/check", loaded.product,
                                               request_script("POST", as_product, check)),
            "GET /v1/authz/subjects/{id} (product)": (f"/v1/authz/subjects/{admin_id}", loaded.product,
                                                       request_script("GET", as_product)),
            "GET /v1/audit-logs?limit=50, 1,000 rows": ("/v1/audit-logs?limit=50", small_token),
            "GET /v1/audit-logs?limit=50, 1,000,000 rows": ("/v1/audit-logs?limit=50", big_token),
        }
        floor, reads = read_cycles(web.url, "/health", routes)
        decisions = sdk.can_rate(web.url, loaded.product, big_token, allowed="erp.vehicles.read",
                                 denied="gestor.apps.read")
        node = sdk.node_rates(web.url, loaded.product, big_token, allowed="erp.vehicles.read",
                              denied="gestor.apps.read")
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

    report = render(floor, reads, first_writes, shipped, bare, web_rss, pipelines, decisions, node,
                    time.monotonic() - started,
                    web_broker="Redis" if WEB_BROKER else "the PostgreSQL fallback")
    results = PROJECT / "bench" / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.now(UTC):%Y-%m-%d}.md"
    path.write_text(report)
    print(report)
    print(f"written to {path.relative_to(PROJECT)} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
