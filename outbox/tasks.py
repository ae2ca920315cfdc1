from celery import shared_task

from outbox.delivery import drain
from outbox.services import trigger_drain


@shared_task(ignore_result=True)
def drain_outbox() -> dict:
    """Triggered after each commit that wrote events, and by the beat sweep as a safety net.

    A run facing a backlog queues one more run, so an idle worker process joins in; that one does
    the same, so a burst spreads over every process while at most one extra run waits in the queue.
    """
    return drain(on_backlog=trigger_drain)
