import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_health_reports_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["data"]["checks"] == {"database": "ok", "broker": "ok"}


def test_broken_database_is_503(client):
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        response = client.get("/health")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["details"]["checks"]["database"] == "down"
    assert response["X-Request-Id"] == error["requestId"]


def test_unreachable_broker_is_503(client, settings):
    from config.celery import app
    from core.observability import health

    settings.HEALTH_BROKER_CHECK_SECONDS = 5
    assert client.get("/health").status_code == 200  # a success is trusted for a while...
    assert client.get("/health").status_code == 200

    # Celery reads CELERY_BROKER_URL from the environment before its own settings, so the test
    # breaks the connection the web process publishes on (the write URL).
    original = app.conf.get("broker_write_url")
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    try:
        trusted = client.get("/health")
        health._broker_ok_until = 0.0  # ...until it expires: then the broker is checked again
        response = client.get("/health")
        again = client.get("/health")  # a failure is not remembered: checked on every poll
    finally:
        app.conf.broker_write_url = original
    assert trusted.status_code == 200
    assert response.status_code == 503 and again.status_code == 503
    assert response.json()["error"]["details"]["checks"] == {"database": "ok", "broker": "down"}
    assert client.get("/health").status_code == 200  # and the recovery is seen at once
