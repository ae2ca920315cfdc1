"""The error envelope, the success envelope and X-Request-Id on every kind of response."""

import json
import re

import pytest

from tests.core.failing_urls import LEAKED_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.core.failing_urls"


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"].split(";")[0].endswith("json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["requestId"] == response["X-Request-Id"]
    return body["error"]


def test_unknown_v1_path_is_a_json_404(client):
    assert_error(client.get("/v1/does-not-exist"), 404, "NOT_FOUND")
    assert_error(client.post("/v1/users/123/nothing", {}), 404, "NOT_FOUND")
    assert_error(client.get("/v1"), 404, "NOT_FOUND")


def test_unknown_v1_path_is_json_even_with_debug_on(client, settings):
    settings.DEBUG = True
    assert_error(client.get("/v1/nothing-here"), 404, "NOT_FOUND")


def test_wrong_method_is_a_json_405(client):
    assert_error(client.post("/health"), 405, "METHOD_NOT_ALLOWED")
    assert_error(client.delete("/v1/openapi.json"), 405, "METHOD_NOT_ALLOWED")


def test_unhandled_exception_is_a_json_500_without_internals(client, failing_urls, log_output):
    error = assert_error(client.get("/v1/test/explode"), 500, "INTERNAL_ERROR")
    serialized = json.dumps(error)
    assert "Traceback" not in serialized and "boom" not in serialized and LEAKED_SECRET not in serialized
    logged = log_output.getvalue()
    assert "boom" in logged and "Traceback" in logged  # the detail goes to the logs...
    assert LEAKED_SECRET not in logged  # ...scrubbed


def test_database_errors_are_a_json_500_without_sql(client, failing_urls):
    error = assert_error(client.get("/v1/test/database"), 500, "DATABASE_ERROR")
    assert "table_that_does_not_exist" not in json.dumps(error)


@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_is_a_503_to_retry_and_the_next_request_reconnects(client, failing_urls):
    from django.db import close_old_connections

    response = client.get("/v1/test/lost-connection")
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response["Retry-After"] == "1"
    # What Django does at every request's end outside the test client: drop an unusable connection.
    close_old_connections()
    assert_error(client.get("/v1/test/database"), 500, "DATABASE_ERROR")  # a new connection, no restart


def test_plain_django_view_errors_under_v1_get_the_envelope(client, failing_urls, settings):
    settings.DEBUG = True  # not even the debug page leaks
    client.raise_request_exception = False
    assert_error(client.get("/v1/test/explode-plain"), 500, "INTERNAL_ERROR")


def test_malformed_json_is_a_validation_error(client, failing_urls):
    assert_error(client.post("/v1/test/echo", "{not json", content_type="application/json"), 400, "VALIDATION_ERROR")


def test_non_json_body_is_unsupported_media_type(client, failing_urls):
    assert_error(client.post("/v1/test/echo", "a=1", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_too_large_body_is_413(client, failing_urls, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"blob": "x" * 5000})
    assert_error(client.post("/v1/test/echo", body, content_type="application/json"), 413, "PAYLOAD_TOO_LARGE")


def test_json_keys_are_camel_case_both_ways(client, failing_urls):
    response = client.post("/v1/test/echo", {"toolAction": "users.read", "nested": {"expiresAt": None}}, content_type="application/json")
    assert response.status_code == 201
    assert response.json() == {"data": {"received": {"toolAction": "users.read", "nested": {"expiresAt": None}}}}


def test_success_envelope(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"data": {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}}


@pytest.mark.parametrize("path", ["/health", "/v1/nope", "/admin/login/"])
def test_well_formed_request_id_is_echoed(client, path):
    response = client.get(path, HTTP_X_REQUEST_ID="req-1234abcd")
    assert response["X-Request-Id"] == "req-1234abcd"


@pytest.mark.parametrize("bad", ["short", "has spaces in it", "x" * 200, "<script>alert(1)</script>"])
def test_malformed_request_id_is_replaced(client, bad):
    response = client.get("/v1/nope", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-Id"] != bad
    assert len(response["X-Request-Id"]) == 32
    assert response.json()["error"]["requestId"] == response["X-Request-Id"]


def test_each_request_gets_its_own_id(client):
    assert client.get("/health")["X-Request-Id"] != client.get("/health")["X-Request-Id"]


def test_openapi_schema_and_offline_docs(client):
    schema = client.get("/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert "/health" in schema.json()["paths"]
    docs = client.get("/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page
    # Everything the page loads is served by the hub itself.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    asset = next(part.split('"')[0] for part in page.split('src="')[1:] if "swagger-ui" in part)
    assert client.get(asset).status_code == 200
