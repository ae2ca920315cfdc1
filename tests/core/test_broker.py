"""The PostgreSQL fallback broker (core/broker.py): woken by NOTIFY, still polling without it."""

import os
import threading
import time
import uuid

import pytest
from django.db import connection
from kombu import Connection, Queue

from config.settings import _sqlalchemy_broker_url
from core.broker import Transport

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_url():
    # kombu's tables in the maintenance database, as tests/outbox/test_workers.py keeps them: pytest
    # drops the test database while the transport's pooled connections may still be open.
    return _sqlalchemy_broker_url({**connection.settings_dict, "NAME": "postgres"})


def publish_later(url: str, queue: Queue, body: dict, delay: float) -> threading.Thread:
    def publish():
        time.sleep(delay)
        with Connection(url) as producer:
            producer.Producer().publish(body, routing_key=queue.name, declare=[queue], serializer="json")

    thread = threading.Thread(target=publish)
    thread.start()
    return thread


def consume_one(url: str, queue: Queue, timeout: float, *, before_publish=None) -> tuple[list, float]:
    received = []
    with Connection(url) as consumer:
        assert isinstance(consumer.transport, Transport)
        with consumer.Consumer(queue, callbacks=[lambda body, message: (received.append(body), message.ack())]):
            if before_publish is not None:
                before_publish(consumer)
            publisher = publish_later(url, queue, {"n": 1}, delay=0.3)
            started = time.monotonic()
            try:
                consumer.drain_events(timeout=timeout)
            except TimeoutError:
                pass
            elapsed = time.monotonic() - started
            publisher.join()
        consumer.default_channel._purge(queue.name)
    return received, elapsed


def test_a_waiting_consumer_wakes_at_the_publish_not_at_its_next_poll(broker_url, monkeypatch):
    # Polling alone would see the message after the 8 s wait the timeout leaves it.
    monkeypatch.setattr(Transport, "polling_interval", 30.0)
    received, elapsed = consume_one(broker_url, Queue(f"test-wake-{uuid.uuid4().hex}"), timeout=8)
    assert received == [{"n": 1}]
    assert elapsed < 4


def test_a_lost_listener_falls_back_to_polling(broker_url, monkeypatch):
    monkeypatch.setattr(Transport, "polling_interval", 0.5)

    def kill_listener(consumer):
        # The listener opens at the first wait, after the first empty poll: on a busy host that poll
        # alone may outlast one short drain.
        deadline = time.monotonic() + 10
        while consumer.transport._listener is None and time.monotonic() < deadline:
            with pytest.raises(TimeoutError):
                consumer.drain_events(timeout=0.2)  # empty: opens the listener
        listener_pid = consumer.transport._listener.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [listener_pid])

    received, _elapsed = consume_one(broker_url, Queue(f"test-lost-{uuid.uuid4().hex}"), timeout=8,
                                     before_publish=kill_listener)
    assert received == [{"n": 1}]


def test_a_queue_two_processes_declare_at_once_is_created_once(broker_url):
    """kombu's own lock covers one process. Here another connection commits the same new queue
    between this channel's looking for it and its insert, as a second process would."""
    name = f"test-race-{uuid.uuid4().hex}"
    with Connection(broker_url) as declaring, Connection(broker_url) as elsewhere:
        channel = declaring.default_channel
        session = channel.session
        add = session.add

        def add_after_another_process(obj):
            if isinstance(obj, channel.queue_cls):
                elsewhere.default_channel._get_or_create(name)
            add(obj)

        session.add = add_after_another_process
        try:
            queue = channel._get_or_create(name)
        finally:
            del session.add
        assert queue.name == name
        rows = session.query(channel.queue_cls).filter(channel.queue_cls.name == name)
        assert [row.id for row in rows] == [queue.id]
        rows.delete()
        session.commit()


def test_a_forked_worker_process_does_not_share_the_parents_broker_connection(broker_url):
    from kombu.transport.sqlalchemy import Channel
    from sqlalchemy import text

    from core.broker import forget_inherited_connections

    def engine():
        ((cached, _sessions),) = [value for key, value in Channel._engines.items() if key in broker_url]
        return cached

    def backend_pid() -> int:
        with engine().connect() as database:
            return database.execute(text("SELECT pg_backend_pid()")).scalar()

    with Connection(broker_url) as parent:
        parent.default_channel.session  # the engine, cached on the class
        engine().dispose()  # earlier tests' connections: the pool now holds the one opened next
        parents = backend_pid()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through the pipe
            try:
                forget_inherited_connections()
                os.write(write, str(backend_pid()).encode())
            finally:
                os._exit(0)
        os.close(write)
        childs = int(os.read(read, 32) or 0)
        os.waitpid(child, 0)
        assert childs and childs != parents
        assert backend_pid() == parents  # the parent's connection still works


def test_behind_a_transaction_pooler_the_consumer_polls(broker_url, settings, monkeypatch):
    # LISTEN is session state: a transaction-mode pooler would hand it to a stranger.
    settings.DATABASE_POOLED = True
    monkeypatch.setattr(Transport, "polling_interval", 0.5)
    received, _elapsed = consume_one(broker_url, Queue(f"test-pooled-{uuid.uuid4().hex}"), timeout=8,
                                     before_publish=lambda consumer: None)
    assert received == [{"n": 1}]
    with Connection(broker_url) as consumer:
        assert consumer.transport._listen() is None
