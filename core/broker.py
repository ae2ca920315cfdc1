"""The PostgreSQL fallback broker: kombu's SQLAlchemy transport, woken by LISTEN/NOTIFY.

kombu's transport finds new messages by polling its table; between two empty polls it sleeps
`CELERY_BROKER_POLLING_INTERVAL`. Here a publish also sends `NOTIFY hub_broker` in the transaction
that inserts the message (PostgreSQL delivers it at commit), and a consumer waits for that
notification on a LISTEN connection of its own instead of sleeping: a message is picked up within
milliseconds of its commit. The poll stays the source of truth — a notification only cuts the wait
short — so a lost listener (database restart) costs latency, never a message: the consumer sleeps
the interval again and reconnects at the next wait.

Registered for `sqla+` broker URLs by `config.celery`; dialects other than PostgreSQL poll as in kombu.
"""

import socket
import time
from json import dumps
from queue import Empty

import psycopg
import structlog
from django.conf import settings
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

__all__ = ["NOTIFY_CHANNEL", "Channel", "Transport", "forget_inherited_connections"]

NOTIFY_CHANNEL = "hub_broker"

logger = structlog.get_logger("hub.broker")


class Channel(kombu_sqlalchemy.Channel):
    def _get_or_create(self, queue):
        """kombu's, safe across processes. Its lock is per process: on a fresh database two processes
        declaring a new queue at once (a publisher and a starting worker) both insert it, and the
        second one's commit fails on the unique name. That one takes the row the first committed."""
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()

    def _put(self, queue, payload, **kwargs):
        """kombu's insert, plus the notification, committed together."""
        obj = self._get_or_create(queue)
        self.session.add(self.message_cls(dumps(payload), obj))
        if self.session.bind.dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_notify(:channel, :queue)"), {"channel": NOTIFY_CHANNEL, "queue": queue})
        try:
            self.session.commit()
        except OperationalError:
            self.session.rollback()
            raise


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel
    # How long a consumer waits for a notification before it polls anyway. Set here because kombu
    # hands the transport options to create_engine().
    polling_interval = settings.CELERY_BROKER_POLLING_INTERVAL

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        self._listener = None

    def drain_events(self, connection, timeout=None):
        """kombu's loop (virtual.Transport.drain_events), waiting for a notification where it sleeps."""
        started = time.monotonic()
        interval = self.polling_interval
        if timeout and interval and interval > timeout:
            interval = timeout
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise socket.timeout() from None
                if interval is not None:
                    self._wait(interval)

    def _wait(self, seconds: float) -> None:
        """Until a message is published or `seconds` have passed. A notification sent since the
        last wait (between the empty poll and now) is queued on the listener and returns at once."""
        try:
            listener = self._listen()
            if listener is None:
                time.sleep(seconds)
                return
            for _notify in listener.notifies(timeout=seconds, stop_after=1):
                pass
            # Several publishes while polling: one poll finds them all, so drop their other wake-ups.
            for _notify in listener.notifies(timeout=0):
                pass
        except psycopg.Error:
            logger.warning("broker_listener_lost", exc_info=True)
            self._close_listener()
            time.sleep(seconds)

    def _listen(self) -> psycopg.Connection | None:
        """The consumer's LISTEN connection, or None where notifications cannot reach it: another
        dialect, or a transaction-mode pooler (LISTEN is session state), where it polls as kombu does."""
        if self._listener is None:
            url = make_url(self.client.hostname)
            if url.get_backend_name() != "postgresql" or settings.DATABASE_POOLED:
                return None
            # Opened by the consuming process itself, so never shared across a fork.
            self._listener = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                                             autocommit=True, application_name="hub-broker-listener",
                                             connect_timeout=settings.DATABASES["default"]["OPTIONS"]["connect_timeout"])
            self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return self._listener

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.close()
            except psycopg.Error:
                pass

    def close_connection(self, connection):
        self._close_listener()
        super().close_connection(connection)


def forget_inherited_connections() -> None:
    """In a process just forked from one that used the broker (a worker process replacing one that
    died, forked from the consumer): kombu caches its engines per class, so the new process holds the
    parent's pooled connections. Drop them without closing them (SQLAlchemy's recipe for forks), so
    that parent and child never talk over one socket."""
    for engine, _session_factory in kombu_sqlalchemy.Channel._engines.values():
        engine.dispose(close=False)
