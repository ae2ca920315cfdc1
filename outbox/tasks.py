from celery import shared_task

from outbox.delivery import drain


@shared_task(ignore_result=True)
def drain_outbox() -> dict:
    """Triggered after each commit that wrote an event, and by the beat sweep as a safety net."""
    return drain()
