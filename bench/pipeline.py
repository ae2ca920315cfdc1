"""One webhook pipeline measurement, on the broker in CELERY_BROKER_URL (started by bench/run.py).

    python -m bench.pipeline <broker name>    → one JSON line

Runs in its own process because the events' drain triggers are published on this process's broker,
which must be the worker's.
"""

import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from bench.common import CORES, PROJECT, child_env, child_pids, peak_rss_mib

EVENTS = 1000
ROUNDS = 3
LATENCY_SAMPLES = 40

# After bench.common, which sets Django up.
from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from audit.services import SYSTEM  # noqa: E402
from operations.management.commands.runhub import worker_command  # noqa: E402
from outbox.services import create_subscription, delete_subscription, emit  # noqa: E402
from outbox.webhooks import sign  # noqa: E402
from tenancy.models import Tenant  # noqa: E402
from tests.outbox.receiver import Receiver  # noqa: E402

SENDERS = CORES * settings.WEBHOOK_DELIVERY_CONCURRENCY


def first_arrivals(receiver: Receiver) -> dict[str, float]:
    """When each webhook id first arrived (a retry or a duplicate arrives again, later)."""
    arrivals = {}
    for hit in list(receiver.received):
        arrivals.setdefault(hit["headers"].get("webhook-id"), hit["at"])
    return arrivals


def wait_for_arrivals(receiver: Receiver, count: int, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while len(arrivals := first_arrivals(receiver)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(arrivals)} of {count} webhooks arrived in {timeout:.0f} s")
        time.sleep(0.02)
    return arrivals


@dataclass
class Pipeline:
    broker: str
    rate: float  # medians of the rounds
    plain_rate: float
    ratios: list[float]  # the pipeline's rate over the plain client's, round by round
    p50_ms: float
    p95_ms: float
    worker_rss_mib: float


PLAIN_CLIENT = """
import json, sys, threading, time, urllib.request
url, senders, payloads = sys.argv[1], int(sys.argv[2]), json.load(sys.stdin)
def send(chunk):
    for body, headers in chunk:
        request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
threads = [threading.Thread(target=send, args=(payloads[i::senders],)) for i in range(senders)]
started = time.perf_counter()
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(len(payloads) / (time.perf_counter() - started))
"""


def plain_client_rate(receiver: Receiver, secret: str) -> float:
    """The same signed payloads, posted by a bare urllib client with as many senders as the pipeline
    has requests in flight: worker processes × WEBHOOK_DELIVERY_CONCURRENCY threads."""
    payloads = []
    for index in range(EVENTS):
        body = json.dumps({"type": "user.created", "data": {"userId": f"plain-{index}", "invited": False}})
        sent_at = datetime.now(UTC)
        payloads.append((body, {
            "Content-Type": "application/json",
            "webhook-id": f"plain-{index}",
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": sign([secret], message_id=f"plain-{index}", timestamp=sent_at, body=body),
        }))
    result = subprocess.run([sys.executable, "-c", PLAIN_CLIENT, receiver.url, str(SENDERS)],
                            input=json.dumps(payloads), capture_output=True, text=True, check=True)
    return float(result.stdout)


def emit_one(tenant, index: int, prefix: str):
    return emit("user.created", tenant=tenant, data={"userId": f"{prefix}-{index}", "invited": False})


def commit_time() -> list[float]:
    """Filled with the time of the current transaction's commit. Registered before the events, so
    it runs first: the drain trigger's publish, which follows, counts in commit-to-delivery."""
    at = []
    transaction.on_commit(lambda: at.append(time.time()))
    return at


def measure(broker: str) -> Pipeline:
    tenant = Tenant.objects.get(slug="bench-002")
    with Receiver() as receiver:
        with transaction.atomic():
            subscription = create_subscription(tenant=tenant, url=receiver.url, event_types=["user.created"],
                                               actor=SYSTEM)
        worker = subprocess.Popen(
            [sys.executable, "-m", *worker_command(), "--concurrency", str(CORES), "--loglevel", "WARNING",
             "--hostname", f"bench-{broker.split()[0].lower()}@%h"],
            cwd=PROJECT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            with transaction.atomic():
                emit_one(tenant, 0, "warm-up")
            wait_for_arrivals(receiver, 1, 60)  # the worker is up and consuming
            receiver.received.clear()
            committed = {}
            for index in range(LATENCY_SAMPLES):
                with transaction.atomic():
                    committed_at = commit_time()
                    event = emit_one(tenant, index, "latency")
                committed[str(event.pk)] = committed_at[0]
                time.sleep(0.1)
            arrivals = wait_for_arrivals(receiver, LATENCY_SAMPLES, 60)
            latencies = sorted((arrivals[event_id] - at) * 1000 for event_id, at in committed.items())
            rates, plain_rates = [], []
            # The pipeline and the plain client take turns (the worker idle while the client posts),
            # so that a host slowing down for a while falls on both.
            for number in range(ROUNDS):
                receiver.received.clear()
                with transaction.atomic():
                    started = commit_time()
                    for index in range(EVENTS):
                        emit_one(tenant, index, f"burst-{number}")
                rates.append(EVENTS / (max(wait_for_arrivals(receiver, EVENTS, 300).values()) - started[0]))
                plain_rates.append(plain_client_rate(receiver, subscription.secret))
            rss = max(peak_rss_mib(pid) for pid in [worker.pid, *child_pids(worker.pid)])
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        with transaction.atomic():
            # Through the service: a delivery's attempts do not cascade (outbox/models.py).
            delete_subscription(subscription=subscription.subscription, actor=SYSTEM)
    return Pipeline(broker, statistics.median(rates), statistics.median(plain_rates),
                    [rate / plain for rate, plain in zip(rates, plain_rates, strict=True)],
                    statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1], rss)


if __name__ == "__main__":
    print(json.dumps(asdict(measure(sys.argv[1]))))
