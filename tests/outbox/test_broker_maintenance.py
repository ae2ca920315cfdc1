import json

import pytest
from django.db import connection

from outbox.maintenance import purge_delivered_broker_messages

pytestmark = pytest.mark.django_db


def test_nothing_to_do_without_the_fallback_brokers_table():
    assert purge_delivered_broker_messages() == 0


def test_delivered_messages_older_than_an_hour_are_purged_in_batches(rescanning_planner, log_output):
    with connection.cursor() as cursor:
        # The columns kombu's SQLAlchemy transport gives its message table (kombu/transport/sqlalchemy/models.py).
        cursor.execute(
            "CREATE TABLE kombu_message (id serial PRIMARY KEY, visible boolean, timestamp timestamp, "
            "payload text NOT NULL, version smallint NOT NULL DEFAULT 1, queue_id integer)"
        )
        cursor.execute(
            "INSERT INTO kombu_message (visible, timestamp, payload) SELECT false, now() - interval '2 hours', 'old' "
            "FROM generate_series(1, 25)"
        )
        cursor.execute("INSERT INTO kombu_message (visible, timestamp, payload) VALUES "
                       "(false, now() - interval '10 minutes', 'recent'), (true, now() - interval '3 hours', 'pending')")
    assert purge_delivered_broker_messages(batch_size=10) == 25
    assert [json.loads(line)["deleted"] for line in log_output.getvalue().splitlines()] == [10, 10, 5]
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM kombu_message ORDER BY payload")
        assert [row[0] for row in cursor.fetchall()] == ["pending", "recent"]
