"""Walk every credential flow, then look for any secret in the logs and the audit trail."""

import json

import pytest

from audit.models import AuditLog
from identity.services import create_api_key, create_user, rotate_api_key
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_no_token_key_or_password_reaches_logs_or_audit_metadata(api, whoami_urls, tenant, log_output):
    secrets_seen = [PASSWORD, "wrong password!"]
    invited = create_user(tenant=tenant, email="inv@acme.com")
    secrets_seen.append(invited.invitation.token)
    api.post("/v1/auth/invitations/accept", {"token": invited.invitation.token, "password": PASSWORD})
    api.login(tenant, "inv@acme.com", "wrong password!")
    session = api.login(tenant, "inv@acme.com").json()["data"]
    secrets_seen += [session["accessToken"], session["refreshToken"]]
    rotated = api.post("/v1/auth/refresh", {"refreshToken": session["refreshToken"]}).json()["data"]
    secrets_seen += [rotated["accessToken"], rotated["refreshToken"]]
    api.post("/v1/auth/refresh", {"refreshToken": session["refreshToken"]})  # reuse
    key = create_api_key(tenant=tenant, name="leaky", profile="admin")
    new_key = rotate_api_key(api_key=key.api_key)
    secrets_seen += [key.key, new_key.key]
    service = api.post("/v1/auth/token", token=new_key.key).json()["data"]["accessToken"]
    secrets_seen.append(service)
    api.get("/v1/test/whoami", token=service)
    api.get("/v1/test/whoami", token=new_key.key[:-1] + "x")
    fresh = api.login(tenant, "inv@acme.com").json()["data"]
    secrets_seen += [fresh["accessToken"], fresh["refreshToken"]]
    api.post("/v1/auth/logout", {"refreshToken": fresh["refreshToken"]}, token=fresh["accessToken"])

    logs = log_output.getvalue()
    audit = json.dumps(list(AuditLog.objects.values("metadata", "entity_id", "user_agent")), default=str)
    assert logs and AuditLog.objects.count() >= 8
    for secret in secrets_seen:
        # Token pieces too: a refresh token's secret half, a JWT's signature.
        for fragment in {secret, secret.split(".")[-1]}:
            assert fragment not in logs, fragment[:12]
            assert fragment not in audit, fragment[:12]


def test_openapi_documents_the_auth_routes_and_both_security_schemes(api):
    schema = api.get("/v1/openapi.json").json()
    for route in ["/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout", "/v1/auth/token", "/v1/auth/invitations/accept"]:
        assert "post" in schema["paths"][route], route
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerJwt"]["scheme"] == "bearer" and schemes["bearerJwt"]["bearerFormat"] == "JWT"
    assert schemes["apiKey"]["bearerFormat"].startswith("aza8_")
    assert schema["paths"]["/v1/auth/login"]["post"].get("security") in ([], [{}], None)
    login_body = schema["paths"]["/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert login_body["$ref"].endswith("/LoginRequest")
    assert set(schema["components"]["schemas"]["SessionTokens"]["properties"]) == {
        "accessToken", "refreshToken", "tokenType", "expiresIn"
    }


def test_openapi_schema_generates_and_validates_without_warnings():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "openapi: 3" in out.getvalue()
