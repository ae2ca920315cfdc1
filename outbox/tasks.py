from celery import shared_task

from outbox.delivery import drain


@shared_task(ignore_result=True)
def drain_outbox() -> dict:
    """Triggered after each commit that wrote an event, and by the beat sweep as a safety net."""
    return drain()


@shared_task(ignore_result=True)
def purge_broker_messages() -> int:
    from outbox.maintenance import purge_delivered_broker_messages

    return purge_delivered_broker_messages()
