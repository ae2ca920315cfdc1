"""Housekeeping of the Postgres-backed broker: kombu keeps delivered messages (visible = false)."""

from datetime import timedelta

import structlog
from django.db import connection, transaction

__all__ = ["purge_delivered_broker_messages"]

logger = structlog.get_logger("hub.retention")

# Long enough that a message fetched by a worker which then died has been redelivered or expired.
DELIVERED_MESSAGE_TTL = timedelta(hours=1)


def purge_delivered_broker_messages(*, batch_size: int = 5000) -> int:
    """Delete delivered kombu messages older than DELIVERED_MESSAGE_TTL, in bounded batches.

    The fallback broker lives in the hub's own database (CELERY_BROKER_URL unset); when another
    broker is configured there is no such table and nothing to do.
    """
    if "kombu_message" not in connection.introspection.table_names():
        return 0
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # Materialised, so the locking read runs once and a batch stays a batch (the claim in
            # outbox/delivery.py says why).
            cursor.execute(
                """
                WITH batch AS MATERIALIZED (
                    SELECT id FROM kombu_message
                    WHERE visible = false AND timestamp < now() - %s
                    LIMIT %s FOR UPDATE SKIP LOCKED)
                DELETE FROM kombu_message USING batch WHERE kombu_message.id = batch.id
                """,
                [DELIVERED_MESSAGE_TTL, batch_size],
            )
            deleted = cursor.rowcount
        total += deleted
        if deleted:
            logger.info("retention_batch", job="purge_broker_messages", deleted=deleted, total=total)
        if deleted < batch_size:
            return total
