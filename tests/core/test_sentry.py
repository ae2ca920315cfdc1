"""Sentry: what actually leaves the process for a 500, caught by a stand-in for Sentry on loopback."""

import gzip
import json

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from sentry_sdk.envelope import Envelope

from core.observability.sentry import init_sentry
from tests.core.failing_urls import LEAKED_SECRET
from tests.outbox.receiver import Receiver

pytestmark = pytest.mark.django_db


def sent_events(receiver) -> list[tuple[dict, bytes]]:
    """The events in the envelopes that reached the stand-in, as parsed and as sent."""
    found = []
    for hit in receiver.received:
        body = gzip.decompress(hit["raw"]) if hit["headers"].get("content-encoding") == "gzip" else hit["raw"]
        for item in Envelope.deserialize(body).items:
            if item.type == "event":
                found.append((item.payload.json, item.payload.get_bytes()))
    return found


@pytest.fixture
def sentry():
    """Sentry's SDK sending to a receiver on loopback standing in for Sentry's ingestion endpoint."""
    with Receiver() as receiver:
        init_sentry(dsn=receiver.base.replace("http://", "http://public@") + "/1", environment="test")
        try:
            yield receiver
        finally:
            sentry_sdk.get_client().close()
            sentry_sdk.get_global_scope().set_client(None)


def wsgi_get(path, **environ) -> tuple[str, dict]:
    """One request through Django's real WSGI handler (which Sentry wraps), in this thread so that
    it sees the test's data. The test client would skip the wrapper that collects URL and headers."""
    request = RequestFactory().get(path, **environ)
    started = {}
    # As the test client does: the test's connection (and its transaction) must stay open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = WSGIHandler()(request.environ, lambda status, headers, exc_info=None: started.update(status=status))
        body = b"".join(chunks)
        chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], json.loads(body)


def test_a_500_reaches_sentry_tagged_and_without_secrets(world, settings, sentry):
    settings.ROOT_URLCONF = "tests.core.failing_urls"
    api_key = "aza8_abcdefabcdef_thisisnotarealkeybutlookslikeone"
    status, body = wsgi_get(
        "/v1/test/explode-for-user?token=query-string-secret&page=2",
        HTTP_AUTHORIZATION=f"Bearer {world.admin_token}",
        HTTP_X_API_KEY=api_key,
        HTTP_COOKIE="sessionid=session-cookie-value-123; csrftoken=csrf-cookie-value-456",
        HTTP_X_REQUEST_ID="sentry-test-request-0001",
    )
    assert status.startswith("500")
    sentry_sdk.flush(timeout=10)

    events = sent_events(sentry)
    assert len(events) == 1, "one event per failure: log lines are not reported a second time"
    event, raw = events[0]
    assert sentry.received[0]["path"] == "/api/1/envelope/"
    assert event["tags"]["tenant"] == str(world.tenant.pk)
    assert event["tags"]["request_id"] == "sentry-test-request-0001" == body["error"]["requestId"]
    assert event["tags"]["tool_action"] == "users.read"
    assert event["environment"] == "test"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["request"]["url"].endswith("/v1/test/explode-for-user")

    sent = raw.decode()
    for secret in (world.admin_token, world.admin_token.split(".")[1], api_key, LEAKED_SECRET,
                   "session-cookie-value-123", "csrf-cookie-value-456", "query-string-secret"):
        assert secret not in sent, secret
    headers = {name.lower(): value for name, value in event["request"]["headers"].items()}
    assert headers["authorization"] == headers["x-api-key"] == "[REDACTED]"
    assert headers["x-request-id"] == "sentry-test-request-0001"
    assert not event["request"].get("data") and not event["request"].get("cookies")
    assert "vars" not in json.dumps(event["exception"])


def test_a_handled_error_sends_nothing(world, sentry):
    assert wsgi_get("/v1/users/not-a-uuid", HTTP_AUTHORIZATION=f"Bearer {world.admin_token}")[0].startswith("404")
    assert wsgi_get("/v1/users", HTTP_AUTHORIZATION=f"Bearer {world.nobody_token}")[0].startswith("403")
    sentry_sdk.flush(timeout=10)
    assert sent_events(sentry) == []
