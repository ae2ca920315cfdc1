import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from audit.models import AuditLog
from audit.services import SYSTEM
from identity import sessions
from identity.tokens import _backend, issue_access_token
from tests.concurrency import run_concurrently
from tests.identity.conftest import PASSWORD, session_token

pytestmark = pytest.mark.django_db


def error_code(response):
    return response.json()["error"]["code"]


def test_login_returns_a_token_pair(api, tokens):
    assert set(tokens) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert tokens["tokenType"] == "Bearer" and tokens["expiresIn"] == 900


def test_access_token_verifies_with_plain_pyjwt_against_the_jwks_document_only(api, tokens, user, tenant):
    document = api.get("/.well-known/jwks.json").json()
    assert "data" not in document and document["keys"]
    header = jwt.get_unverified_header(tokens["accessToken"])
    assert header["alg"] == "RS256" and header["kid"]
    key = jwt.PyJWKSet.from_dict(document)[header["kid"]]
    claims = jwt.decode(tokens["accessToken"], key.key, algorithms=["RS256"], issuer="aza8-hub", audience="aza8-hub")
    assert claims["sub"] == str(user.pk) and claims["tenantId"] == str(tenant.pk)
    assert claims["type"] == "user" and claims["groups"] == []
    assert claims["exp"] - claims["iat"] == 900 and claims["jti"]
    assert "password" not in str(claims) and "email" not in claims


def test_group_names_ride_in_the_token(api, user, tenant):
    from tests.factories import GroupFactory, UserGroupFactory

    UserGroupFactory(user=user, group=GroupFactory(tenant=tenant, name="OPERATOR"))
    UserGroupFactory(user=user, group=GroupFactory(tenant=tenant, name="SUSPENDED_ONE", status="suspended"))
    token = api.login(tenant, user.email).json()["data"]["accessToken"]
    assert jwt.decode(token, options={"verify_signature": False})["groups"] == ["OPERATOR"]


@pytest.mark.parametrize(
    "email, password, reason",
    [("ana@acme.com", "wrong password!", "wrong_password"), ("nobody@acme.com", PASSWORD, "unknown_account")],
)
def test_failed_logins_answer_the_same_and_are_audited(api, user, tenant, email, password, reason):
    response = api.login(tenant, email, password)
    assert response.status_code == 401 and error_code(response) == "UNAUTHORIZED"
    assert response.json()["error"]["message"] == "Invalid credentials."
    entry = AuditLog.objects.get(action="auth.login.failed")
    assert entry.tenant == tenant and entry.metadata["reason"] == reason
    assert entry.metadata["requestId"] == response["X-Request-Id"]


def test_unknown_tenant_is_audited_in_the_platform_trail(api, seeded):
    response = api.post("/v1/auth/login", {"tenant": "ghost", "email": "a@b.co", "password": "x" * 12})
    assert response.status_code == 401
    assert AuditLog.objects.get(action="auth.login.failed").tenant.is_platform


def test_successful_login_is_audited(api, tokens, user):
    entry = AuditLog.objects.get(action="auth.login")
    assert entry.actor_user == user and entry.actor_type == "user" and entry.entity_id == str(user.pk)


def test_suspended_user_and_suspended_tenant_cannot_log_in(api, user, tenant):
    user.status = "suspended"
    user.save()
    assert error_code(api.login(tenant, user.email)) == "ACCOUNT_SUSPENDED"
    user.status = "active"
    user.save()
    tenant.status = "suspended"
    tenant.save()
    response = api.login(tenant, user.email)
    assert response.status_code == 403 and error_code(response) == "TENANT_SUSPENDED"


def test_invalid_login_body_is_a_validation_error(api, tenant):
    response = api.post("/v1/auth/login", {"tenant": tenant.slug, "email": "not-an-email"})
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    assert set(response.json()["error"]["details"]) == {"email", "password"}


def test_sixth_attempt_in_the_window_is_rate_limited(api, user, tenant):
    for _ in range(5):
        assert api.login(tenant, user.email, "wrong password!").status_code == 401
    response = api.login(tenant, user.email)  # even the right password
    assert response.status_code == 429 and error_code(response) == "RATE_LIMITED"
    assert 0 < int(response["Retry-After"]) <= 900
    # The limit is per IP + tenant + email: another address or account is not affected.
    assert api.login(tenant, user.email, REMOTE_ADDR="10.9.9.9").status_code == 200
    assert api.login(tenant, "other@acme.com", "wrong password!").status_code == 401


def test_successful_logins_do_not_count(api, user, tenant):
    """Several devices behind one office NAT, or a product's test suite, sign in again and again."""
    for _ in range(10):
        assert api.login(tenant, user.email).status_code == 200


def test_a_success_clears_the_failures_before_it(api, user, tenant):
    for _ in range(4):
        assert api.login(tenant, user.email, "wrong password!").status_code == 401
    assert api.login(tenant, user.email).status_code == 200
    for _ in range(5):
        assert api.login(tenant, user.email, "wrong password!").status_code == 401
    limited = api.login(tenant, user.email, "wrong password!")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0


@pytest.mark.django_db(transaction=True)
def test_rate_limit_holds_under_twenty_concurrent_attempts(seeded):
    from tests.factories import TenantFactory

    tenant = TenantFactory(slug="busy")
    def attempt():
        sessions.login(tenant_slug=tenant.slug, email="x@busy.com", password="wrong", ip="203.0.113.7")

    outcomes = [getattr(outcome, "code", repr(outcome)) for outcome in run_concurrently(attempt, 20)]
    assert sorted(outcomes) == ["RATE_LIMITED"] * 15 + ["UNAUTHORIZED"] * 5


def test_passwords_are_hashed_with_argon2(user):
    assert user.password.startswith("argon2$argon2id$")


def test_missing_and_garbage_credentials(api, whoami_urls):
    missing = api.get("/v1/test/whoami")
    assert missing.status_code == 401 and error_code(missing) == "UNAUTHORIZED"
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert error_code(api.get("/v1/test/whoami", token="garbage")) == "INVALID_TOKEN"
    assert error_code(api.get("/v1/test/whoami", HTTP_AUTHORIZATION="Basic dXNlcjpwdw==")) == "UNAUTHORIZED"


def test_user_token_authenticates(api, whoami_urls, tokens, user, tenant):
    response = api.get("/v1/test/whoami", token=tokens["accessToken"])
    assert response.status_code == 200
    assert response.json()["data"] == {"type": "user", "id": str(user.pk), "tenant": str(tenant.pk)}


def forge(claims_override=None, **encode_kwargs):
    now = int(datetime.now(timezone.utc).timestamp())
    claims = {"sub": "x", "tenantId": "y", "type": "user", "groups": [], "iat": now, "exp": now + 60,
              "jti": "j", "iss": "aza8-hub"}
    claims.update(claims_override or {})
    return jwt.encode(claims, **encode_kwargs)


def hs256_by_hand(claims_override, secret: bytes, kid: str) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(datetime.now(timezone.utc).timestamp())
    claims = {"type": "user", "groups": [], "iat": now, "exp": now + 60, "jti": "j", "iss": "aza8-hub", **claims_override}
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def test_expired_tampered_and_forged_tokens_are_refused(api, whoami_urls, user, tenant, tokens):
    ring_backend = _backend()
    expired = ring_backend.encode({"sub": str(user.pk), "tenantId": str(tenant.pk), "type": "user", "groups": [],
                                   "aud": ["aza8-hub"], "iat": 1, "exp": 2, "jti": "old"})
    assert error_code(api.get("/v1/test/whoami", token=expired)) == "TOKEN_EXPIRED"
    header, payload, signature = tokens["accessToken"].split(".")
    tampered = ".".join([header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature])
    assert error_code(api.get("/v1/test/whoami", token=tampered)) == "INVALID_TOKEN"
    unsigned = forge({"sub": str(user.pk), "tenantId": str(tenant.pk)}, key=None, algorithm="none")
    assert error_code(api.get("/v1/test/whoami", token=unsigned)) == "INVALID_TOKEN"
    # Algorithm confusion: an HMAC "signed" with the public key must not pass as RS256.
    public_pem = ring_backend.ring.public_keys[ring_backend.ring.signing_kid].public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = hs256_by_hand({"sub": str(user.pk), "tenantId": str(tenant.pk)}, public_pem, ring_backend.ring.signing_kid)
    assert error_code(api.get("/v1/test/whoami", token=confused)) == "INVALID_TOKEN"
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = forge({"sub": str(user.pk), "tenantId": str(tenant.pk)}, key=stranger, algorithm="RS256",
                    headers={"kid": ring_backend.ring.signing_kid})
    assert error_code(api.get("/v1/test/whoami", token=foreign)) == "INVALID_TOKEN"


def test_tokens_name_the_hub_and_the_entitled_tools_in_their_audience(api, whoami_urls, user, tenant):
    """`aud` is the hub and the tenant's products when the token was minted; core tools are the hub."""
    from identity.onboarding import assign_package

    assert jwt.decode(api.login(tenant, user.email).json()["data"]["accessToken"],
                      options={"verify_signature": False})["aud"] == ["aza8-hub"]
    assign_package(tenant=tenant, package_key="gestor-pro", actor=SYSTEM)
    assign_package(tenant=tenant, package_key="erp-basic", actor=SYSTEM)
    token = api.login(tenant, user.email).json()["data"]["accessToken"]
    key = _backend().ring.public_keys[jwt.get_unverified_header(token)["kid"]]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == ["aza8-hub", "erp", "gestor"]
    # What a product does: verify against its own tool key; another product's key is refused.
    assert jwt.decode(token, key, algorithms=["RS256"], audience="erp")["sub"] == str(user.pk)
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key, algorithms=["RS256"], audience="hotelbot")


@pytest.mark.parametrize("audience", [None, "erp", ["erp", "gestor"]])
def test_the_hub_refuses_a_token_not_meant_for_it(api, whoami_urls, user, tenant, audience):
    session = session_token(user)
    assert api.get("/v1/test/whoami", token=session).status_code == 200
    claims = {**jwt.decode(session, options={"verify_signature": False}), "aud": audience}
    if audience is None:
        del claims["aud"]
    token = _backend().encode(claims)  # signed by the hub's own key: only the audience is wrong
    assert error_code(api.get("/v1/test/whoami", token=token)) == "INVALID_TOKEN"


def test_token_for_a_tenant_that_does_not_exist(api, whoami_urls, user):
    import uuid

    token = issue_access_token(subject=user.pk, tenant_id=uuid.uuid4(), token_type="user", session=uuid.uuid4()).token
    response = api.get("/v1/test/whoami", token=token)
    assert response.status_code == 401 and error_code(response) == "TENANT_NOT_FOUND"


def test_key_rotation_signs_with_the_newest_and_verifies_the_older(api, whoami_urls, settings, user, tenant):
    from core.embedded import _generate_rsa_private_key_pem

    old_token = session_token(user)
    (old_kid,) = settings.JWT_PRIVATE_KEYS
    settings.JWT_PRIVATE_KEYS = {**settings.JWT_PRIVATE_KEYS, "2026-12": _generate_rsa_private_key_pem()}
    assert {key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]} == {old_kid, "2026-12"}
    new_token = session_token(user)
    assert jwt.get_unverified_header(new_token)["kid"] == "2026-12"
    assert api.get("/v1/test/whoami", token=old_token).status_code == 200
    assert api.get("/v1/test/whoami", token=new_token).status_code == 200
    settings.JWT_PRIVATE_KEYS = {"2026-12": settings.JWT_PRIVATE_KEYS["2026-12"]}
    assert error_code(api.get("/v1/test/whoami", token=old_token)) == "INVALID_TOKEN"


def test_suspension_and_deletion_take_effect_on_the_next_request(api, whoami_urls, tokens, user, tenant):
    from django.utils import timezone as tz

    token = tokens["accessToken"]
    user.status = "suspended"
    user.save()
    assert error_code(api.get("/v1/test/whoami", token=token)) == "ACCOUNT_SUSPENDED"
    user.status, user.deleted_at = "active", tz.now()
    user.save()
    assert error_code(api.get("/v1/test/whoami", token=token)) == "ACCOUNT_SUSPENDED"
    user.deleted_at = None
    user.save()
    tenant.status = "suspended"
    tenant.save()
    response = api.get("/v1/test/whoami", token=token)
    assert response.status_code == 403 and error_code(response) == "TENANT_SUSPENDED"


def test_jwks_refuses_writes(api):
    response = api.post("/.well-known/jwks.json")
    assert response.status_code == 405 and error_code(response) == "METHOD_NOT_ALLOWED"
