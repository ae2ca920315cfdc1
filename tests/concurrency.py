"""Running the same code from several threads at once, each with its own database connection."""

import threading

from django.db import connection

__all__ = ["run_concurrently"]


def run_concurrently(target, times: int) -> list:
    """Start `target()` in `times` threads released together; return what each returned or raised."""
    barrier = threading.Barrier(times)
    outcomes = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            result = target()
        except Exception as exc:  # noqa: BLE001 - the caller inspects what each thread ended with
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
