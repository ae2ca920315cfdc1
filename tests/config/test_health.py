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


def test_unreachable_broker_is_503(client):
    from config.celery import app

    # Celery reads CELERY_BROKER_URL from the environment before its own settings, so the test
    # breaks the connection the web process publishes on (the write URL).
    original = app.conf.get("broker_write_url")
    app.conf.broker_write_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/health")
    finally:
        app.conf.broker_write_url = original
    assert response.status_code == 503
    assert response.json()["error"]["details"]["checks"] == {"database": "ok", "broker": "down"}
