"""Writing to the outbox: called inside the transaction of the change the event describes."""

from django.db import transaction

from audit.scrubber import scrub
from config.request_context import current_request
from outbox.events import is_enabled
from outbox.models import OutboxEvent

__all__ = ["emit"]


def emit(event_type: str, *, tenant, data: dict) -> OutboxEvent | None:
    """Record `event_type` for delivery after commit; None when the operating profile leaves it out.

    Payloads carry ids and non-secret fields only; they pass through the scrubber as a safety net.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.emit must run inside the transaction of the change it announces")
    if not is_enabled(event_type):
        return None
    request = current_request()
    payload = {"data": scrub(data)}
    if request is not None:
        payload["requestId"] = request.request_id
    return OutboxEvent.objects.create(tenant=tenant, type=event_type, payload=payload)
