"""Logs are JSON lines with the request fields, and no credential ever reaches them."""

import json

import pytest
import structlog

from core.security.scrubber import REDACTED, scrub

pytestmark = pytest.mark.django_db

BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
API_KEY = "aza8_Ab12Cd34_s3cr3tS3cr3tS3cr3tS3cr3t"
PASSWORD = "hunter2-but-longer"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_access_line_has_the_spec_fields(client, log_output):
    response = client.get("/v1/nope?token=abc", HTTP_X_REQUEST_ID="trace-me-0001")
    access = [line for line in lines(log_output) if line["logger"] == "hub.access"][-1]
    assert access["requestId"] == "trace-me-0001" == response["X-Request-Id"]
    assert access["method"] == "GET" and access["path"] == "/v1/nope"
    assert access["statusCode"] == 404 and access["error"] == {"code": "NOT_FOUND"}
    assert isinstance(access["latency_ms"], float)
    assert access["level"] == "warning" and "timestamp" in access
    # The query string can carry secrets, so the path is logged without it.
    assert "abc" not in json.dumps(access)


def test_credentials_sent_to_the_hub_never_reach_the_logs(client, log_output):
    client.post(
        "/v1/auth/login",
        {"tenant": "acme", "email": "a@example.com", "password": PASSWORD, "apiKey": API_KEY},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {BEARER}",
        HTTP_COOKIE=f"sessionid={PASSWORD}",
    )
    client.get("/health", HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
    output = log_output.getvalue()
    assert output
    for secret in (BEARER, API_KEY, PASSWORD):
        assert secret not in output


def test_secrets_passed_to_a_logger_are_scrubbed(log_output):
    logger = structlog.get_logger("hub.test")
    logger.info(
        "calling out",
        headers={"Authorization": f"Bearer {BEARER}", "Cookie": "sessionid=abc", "Accept": "application/json"},
        password=PASSWORD,
        note=f"key {API_KEY} and {WEBHOOK_SECRET} inline",
    )
    import logging

    logging.getLogger("some.library").warning("token leaked: Bearer %s", BEARER)
    output = log_output.getvalue()
    for secret in (BEARER, API_KEY, PASSWORD, WEBHOOK_SECRET, "sessionid=abc"):
        assert secret not in output
    line = lines(log_output)[0]
    assert line["headers"]["Accept"] == "application/json"
    assert line["headers"]["Authorization"] == REDACTED and line["password"] == REDACTED


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"refreshToken": "abc", "email": "a@b.c"}, {"refreshToken": REDACTED, "email": "a@b.c"}),
        ({"nested": [{"client_secret": "x"}]}, {"nested": [{"client_secret": REDACTED}]}),
        ({"X-Api-Key": "k", "count": 3}, {"X-Api-Key": REDACTED, "count": 3}),
        (f"Authorization: Bearer {BEARER}", f"Authorization: {REDACTED}"),
        (("plain", API_KEY), ("plain", REDACTED)),
        ({"password": None}, {"password": None}),
    ],
)
def test_scrub(value, expected):
    assert scrub(value) == expected


def test_scrub_does_not_modify_its_input():
    original = {"password": "x", "inner": {"token": "y"}}
    scrub(original)
    assert original == {"password": "x", "inner": {"token": "y"}}


@pytest.mark.parametrize(
    "key", ["password", "refresh_token", "accessToken", "X-Api-Key", "client_secret", "Set-Cookie", "tokenHash",
            "private-key", "Authorization", "webhookSignature"],
)
def test_sensitive_keys(key):
    assert scrub({key: "value"}) == {key: REDACTED}


@pytest.mark.parametrize("key", ["tokenType", "revokedTokens", "expiresIn", "email", "scopeCount", "keyVersion"])
def test_harmless_keys_are_kept(key):
    assert scrub({key: "value"}) == {key: "value"}


def test_an_event_below_the_level_is_dropped_before_it_is_formatted(log_output, monkeypatch):
    """With LOG_LEVEL=WARNING every request's access line is below the level: it must cost nothing."""
    import logging

    import core.observability.logging

    scrubbed = []
    monkeypatch.setattr(core.observability.logging, "scrub", lambda event: scrubbed.append(event) or event)
    hub_logger = logging.getLogger("hub.below-level")
    monkeypatch.setattr(hub_logger, "level", logging.WARNING)
    structlog.get_logger("hub.below-level").info("request", path="/v1/me")
    assert scrubbed == [] and lines(log_output) == []
    structlog.get_logger("hub.below-level").warning("request", path="/v1/me")
    assert len(scrubbed) == 1 and lines(log_output)[0]["path"] == "/v1/me"
