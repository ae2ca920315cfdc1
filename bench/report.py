"""The bench's report: bench/results/<date>.md, each figure beside its goal. Imported by bench/run.py,
once bench.common has set Django up."""

import os
import statistics
from datetime import UTC, datetime

from django.conf import settings

from bench import data, sdk, wrk
from bench.common import CORES
from bench.wrk import Bracketed, Load, median_load
from identity.models import User
from tenancy.models import Tenant

__all__ = ["render"]


def _read_row(route: str, loads: list[Load], against: float, ratios: list[float], verdict: str) -> str:
    load = median_load(loads)
    return (f"| {route} | {load.rate:.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} | {load.errors} | {against:.3f}× | "
            f"{' / '.join(f'{value:.2f}' for value in ratios)} | {verdict} |")


def _write_row(server: str, loads: list[Load]) -> str:
    load = median_load(loads)
    return (f"| {server} | {load.rate:.0f} | {' / '.join(f'{run.rate:.0f}' for run in loads)} | {load.p50_ms:.1f} | "
            f"{load.errors} |")


def _node_section(node: dict) -> list[str]:
    can, verify = node["can"], node["verify"]

    def rounds(figure: dict) -> str:
        return " / ".join(f"{rate:,.0f}" for rate in figure["rates"])

    return [
        "## 7. The TypeScript SDK in Node (`clients/typescript/bench/bench.ts`)",
        "",
        f"Node {node['node']}, one event loop, each call awaited in turn, {node['rounds']} rounds. `hub.can` on a warm "
        f"cache (an allowed and a denied action in turn, {can['calls']:,} calls a round): **{can['rate']:,.0f} "
        f"decisions/s** (median; goal ≥ {sdk.NODE_CAN_GOAL:,} {'✅' if can['rate'] >= sdk.NODE_CAN_GOAL else '❌'}); "
        f"per round: {rounds(can)}. Offline `hub.verify` of one user's token ({verify['calls']:,} a round): "
        f"**{verify['rate']:,.0f} tokens/s** (median; goal ≥ {sdk.NODE_VERIFY_GOAL:,} "
        f"{'✅' if verify['rate'] >= sdk.NODE_VERIFY_GOAL else '❌'}); per round: {rounds(verify)}.",
        "",
    ]


def render(floor: list[Load], reads: dict[str, Bracketed], first_writes: dict, shipped: Bracketed, bare: list[Load],
           web_rss: float, pipelines: list[dict], decisions: dict, node: dict, elapsed: float, *,
           web_broker: str) -> str:
    lines = [
        f"# Benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"{CORES} cores; gunicorn with {CORES} sync workers; wrk with {CORES} threads and {wrk.CONNECTIONS} "
        f"connections, reads in {wrk.READ_CYCLES} cycles of every route, {wrk.READ_SLICE_SECONDS} s each, the floor "
        f"before and after each (medians; a route's ratio is the median of its cycles' ratios to the mean of the "
        f"floor on either side), writes in {wrk.WRITE_SLICES} slices of {wrk.WRITE_SLICE_SECONDS} s of the shipped "
        f"server, each between two of the bare one's (the cost is the median of the slices'); "
        f"PostgreSQL database `{settings.DATABASES['default']['NAME']}` (autovacuum {data.autovacuum()}; the bench "
        f"runs `VACUUM (ANALYZE)` after loading, after the first writes and before the webhook figure); "
        f"cache {'Redis' if 'CACHE_URL' in os.environ else 'PostgreSQL'}; "
        f"web servers' broker {web_broker}. "
        f"Data: {Tenant.objects.count()} tenants, {User.objects.count()} users, "
        f"{data.BIG_AUDIT:,} audit entries in one tenant. Run took {elapsed:.0f} s.",
        "",
        "## 1. Reads against the floor (`GET /health`: framework + one query)",
        "",
        "| Route | req/s | p50 ms | p99 ms | errors | vs floor | per cycle | goal |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    goals = {"GET /v1/me (JWT)": 0.7, "GET /v1/users?limit=50 (JWT)": 0.5, "GET /v1/me (API key)": 0.7,
             "GET /v1/users?limit=50 (API key)": 0.5, "POST /v1/authz/check (JWT)": 0.7,
             "POST /v1/authz/check (product)": 0.7}
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
        f"Before the slices, each server wrote for {wrk.WRITE_FIRST_SECONDS} s: "
        f"{first_writes['with'].rate:.0f} req/s as shipped, {first_writes['without'].rate:.0f} bare, a cost of "
        f"{(1 - first_writes['with'].rate / first_writes['without'].rate) * 100:.1f} % (one run each, one after the "
        f"other; not the goal's figure).",
        "",
        "## 3. Audit list at a million rows",
        "",
        f"p50 {median_load(big).p50_ms:.1f} ms at 1,000,000 rows vs {median_load(small).p50_ms:.1f} ms at 1,000 (medians); "
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
        "## 6. The Python SDK's decisions on a warm cache (`bench/sdk.py`)",
        "",
        f"`Hub.can` from its in-process snapshot (fetched once from this run's hub), one thread, an allowed and "
        f"a denied action in turn, {sdk.ROUNDS} rounds of {sdk.CALLS:,} calls: **{decisions['rate']:,.0f} "
        f"decisions/s** (median; goal ≥ {sdk.GOAL:,} {'✅' if decisions['rate'] >= sdk.GOAL else '❌'}); per round: "
        f"{' / '.join(f'{rate:,.0f}' for rate in decisions['rates'])}.",
        "",
        *_node_section(node),
    ]
    return "\n".join(lines)
