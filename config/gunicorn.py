"""gunicorn settings for every way the hub serves HTTP (`--config python:config.gunicorn`).

Prometheus counters live in each worker process; a scrape lands on one worker. In prometheus
multiprocess mode every worker writes its values to files in one directory and the scrape adds them
up (core/observability/metrics.py), so /metrics answers for the whole server whichever worker takes it.
"""

import os
import tempfile
from pathlib import Path

# Read by prometheus_client when a worker imports it, which happens after the fork (no --preload).
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_created_here = []


def _clear(directory: Path) -> None:
    for stale in directory.glob("*.db"):
        stale.unlink()


def on_starting(server):
    """Values left by an earlier run would be added in: start from an empty directory."""
    configured = os.environ.get(METRICS_DIR_VARIABLE)
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)
        _clear(Path(configured))
    else:
        os.environ[METRICS_DIR_VARIABLE] = tempfile.mkdtemp(prefix="hub-metrics-")
        _created_here.append(os.environ[METRICS_DIR_VARIABLE])


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    _clear(Path(os.environ[METRICS_DIR_VARIABLE]))
    for directory in _created_here:
        Path(directory).rmdir()
