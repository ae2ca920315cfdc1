"""The Celery app (`celery -A config worker|beat`)."""

import os
import threading

import structlog
from celery import Celery
from celery.signals import worker_process_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The Postgres-backed broker (`sqla+postgresql…` URLs) is kombu's SQLAlchemy transport woken by
# LISTEN/NOTIFY, core/broker.py. kombu imports it only when such a URL is used.
TRANSPORT_ALIASES["sqla"] = TRANSPORT_ALIASES["sqlalchemy"] = "core.broker:Transport"

logger = structlog.get_logger("hub.celery")


@worker_process_init.connect
def _prepare_publisher(**_kwargs):
    """Open each worker process's broker connection for publishing when the process starts, not at its
    first publish: a drain facing a backlog publishes one more drain, and on the PostgreSQL fallback
    the first publish of a process (creating the SQLAlchemy engine, checking kombu's tables, declaring
    the queue) takes a few hundred milliseconds that would come out of the burst. In a thread, so that
    a slow or unreachable broker never holds up the start of the pool; the first publish retries."""
    if app.conf.broker_url.startswith(("sqla+", "sqlalchemy+")):
        from core.broker import forget_inherited_connections

        forget_inherited_connections()
    threading.Thread(target=_declare_default_queue, name="prepare-publisher", daemon=True).start()


def _declare_default_queue() -> None:
    try:
        with app.producer_or_acquire() as producer:
            producer.maybe_declare(app.amqp.default_queue)
    except Exception:  # noqa: BLE001 - only a head start: the first publish connects anyway
        logger.warning("broker_publisher_not_prepared", exc_info=True)
