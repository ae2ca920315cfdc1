from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from identity.models import ApiKey
from identity.services import create_api_key, rotate_api_key, set_api_key_status
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def code(response):
    return response.json()["error"]["code"]


def test_key_format_and_what_is_stored(new_key):
    prefix = new_key.api_key.prefix
    assert new_key.key.startswith(f"aza8_{prefix}_") and len(prefix) == 12
    secret = new_key.key[len(f"aza8_{prefix}_"):]
    stored = ApiKey.objects.get(pk=new_key.api_key.pk)
    assert secret not in stored.digest and len(stored.digest) == 64 and stored.pepper_version == 1
    assert new_key.key not in str(ApiKey.objects.filter(pk=stored.pk).values().get())


def test_a_key_authenticates_as_a_service_of_its_tenant(api, whoami_urls, new_key, tenant):
    response = api.get("/v1/test/whoami", token=new_key.key)
    assert response.status_code == 200
    assert response.json()["data"] == {"type": "service", "id": str(new_key.api_key.pk), "tenant": str(tenant.pk)}


def test_a_secret_that_differs_by_one_character_fails(api, whoami_urls, new_key):
    last = new_key.key[-1]
    wrong = new_key.key[:-1] + ("a" if last != "a" else "b")
    response = api.get("/v1/test/whoami", token=wrong)
    assert response.status_code == 401 and code(response) == "INVALID_TOKEN"
    assert code(api.get("/v1/test/whoami", token="aza8_short_x")) == "INVALID_TOKEN"
    unknown_prefix = "aza8_ZZZZZZZZZZZZ_" + new_key.key.split("_", 2)[2]
    assert code(api.get("/v1/test/whoami", token=unknown_prefix)) == "INVALID_TOKEN"


def test_revoked_suspended_and_expired_keys_are_refused(api, whoami_urls, new_key):
    key = new_key.api_key
    set_api_key_status(api_key=key, status="suspended", reason="incident 42")
    response = api.get("/v1/test/whoami", token=new_key.key)
    assert response.status_code == 403 and code(response) == "ACCOUNT_SUSPENDED"
    set_api_key_status(api_key=key, status="active")
    assert api.get("/v1/test/whoami", token=new_key.key).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert code(api.get("/v1/test/whoami", token=new_key.key)) == "TOKEN_EXPIRED"
    ApiKey.objects.filter(pk=key.pk).update(expires_at=None)
    key.refresh_from_db()
    set_api_key_status(api_key=key, status="revoked")
    response = api.get("/v1/test/whoami", token=new_key.key)
    assert response.status_code == 401 and code(response) == "TOKEN_REVOKED"


def test_a_revoked_key_stays_revoked_and_suspension_needs_a_reason(new_key):
    from core.api.exceptions import Conflict, ValidationFailed

    with pytest.raises(ValidationFailed):
        set_api_key_status(api_key=new_key.api_key, status="suspended")
    set_api_key_status(api_key=new_key.api_key, status="revoked")
    with pytest.raises(Conflict):
        set_api_key_status(api_key=new_key.api_key, status="active")


def test_rotation_invalidates_the_old_secret(api, whoami_urls, new_key):
    rotated = rotate_api_key(api_key=new_key.api_key)
    assert code(api.get("/v1/test/whoami", token=new_key.key)) == "INVALID_TOKEN"
    assert api.get("/v1/test/whoami", token=rotated.key).status_code == 200


def test_allowed_networks(api, whoami_urls, tenant):
    office = create_api_key(tenant=tenant, name="office", profile="write", allowed_networks=["10.0.0.0/8", "2001:db8::/32"])
    assert office.api_key.allowed_networks == ["10.0.0.0/8", "2001:db8::/32"]
    assert api.get("/v1/test/whoami", token=office.key, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert api.get("/v1/test/whoami", token=office.key, REMOTE_ADDR="2001:db8::1").status_code == 200
    refused = api.get("/v1/test/whoami", token=office.key, REMOTE_ADDR="192.0.2.10")
    assert refused.status_code == 401 and code(refused) == "UNAUTHORIZED"


def test_invalid_key_definitions_are_refused(tenant, new_key):
    from core.api.exceptions import DuplicateResource, Unprocessable, ValidationFailed

    with pytest.raises(Unprocessable):
        create_api_key(tenant=tenant, name="both", profile="admin", scopes=["users.read"])
    with pytest.raises(Unprocessable):
        create_api_key(tenant=tenant, name="neither")
    with pytest.raises(ValidationFailed):
        create_api_key(tenant=tenant, name="bad-net", profile="admin", allowed_networks=["not-a-network"])
    with pytest.raises(DuplicateResource):
        create_api_key(tenant=tenant, name="ci", profile="admin")


def test_last_used_is_written_at_most_once_a_minute(api, whoami_urls, new_key):
    api.get("/v1/test/whoami", token=new_key.key)
    first = ApiKey.objects.get(pk=new_key.api_key.pk).last_used_at
    assert first is not None
    api.get("/v1/test/whoami", token=new_key.key)
    assert ApiKey.objects.get(pk=new_key.api_key.pk).last_used_at == first
    ApiKey.objects.filter(pk=new_key.api_key.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    api.get("/v1/test/whoami", token=new_key.key)
    assert ApiKey.objects.get(pk=new_key.api_key.pk).last_used_at > first


def test_service_token_from_an_api_key(api, whoami_urls, tenant):
    service = create_api_key(tenant=tenant, name="erp-sync", scopes=["users.read", "groups.read"])
    response = api.post("/v1/auth/token", token=service.key)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["tokenType"] == "Bearer" and data["expiresIn"] == 600
    document = api.get("/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(document)[jwt.get_unverified_header(data["accessToken"])["kid"]]
    claims = jwt.decode(data["accessToken"], key.key, algorithms=["RS256"], audience="aza8-hub")
    assert claims["type"] == "service" and claims["sub"] == str(service.api_key.pk)
    assert claims["tenantId"] == str(tenant.pk) and claims["scopes"] == ["groups.read", "users.read"]
    assert claims["aud"] == ["aza8-hub"]  # and the tenant's products, as a user's (tests/identity/test_login_and_tokens.py)
    whoami = api.get("/v1/test/whoami", token=data["accessToken"])
    assert whoami.json()["data"]["type"] == "service"
    # The token dies with its key.
    set_api_key_status(api_key=service.api_key, status="revoked")
    assert code(api.get("/v1/test/whoami", token=data["accessToken"])) == "TOKEN_REVOKED"


def test_service_tokens_are_minted_from_keys_only(api, tokens, new_key):
    assert code(api.post("/v1/auth/token", token=tokens["accessToken"])) == "CREDENTIAL_NOT_ALLOWED"
    service_jwt = api.post("/v1/auth/token", token=new_key.key).json()["data"]["accessToken"]
    assert code(api.post("/v1/auth/token", token=service_jwt)) == "CREDENTIAL_NOT_ALLOWED"
    assert code(api.post("/v1/auth/token")) == "UNAUTHORIZED"


def test_x_tenant_id_may_only_repeat_the_credentials_tenant(api, whoami_urls, new_key, tokens, tenant):
    other = TenantFactory()
    for credential in (new_key.key, tokens["accessToken"]):
        assert api.get("/v1/test/whoami", token=credential, **{"X-Tenant-Id": str(tenant.pk)}).status_code == 200
        assert api.get("/v1/test/whoami", token=credential, **{"x-tenant-id": str(tenant.pk).upper()}).status_code == 200
        mismatch = api.get("/v1/test/whoami", token=credential, **{"X-Tenant-Id": str(other.pk)})
        assert mismatch.status_code == 400 and code(mismatch) == "TENANT_MISMATCH"


def test_suspended_tenant_refuses_its_keys(api, whoami_urls, new_key, tenant):
    tenant.status = "suspended"
    tenant.save()
    response = api.get("/v1/test/whoami", token=new_key.key)
    assert response.status_code == 403 and code(response) == "TENANT_SUSPENDED"


@pytest.mark.parametrize("body", [{"tenantId": "x"}, {"tenant_id": "x"}, {"tenant": "acme"}])
def test_tenant_in_the_body_is_forbidden(api, whoami_urls, tokens, body):
    response = api.post("/v1/test/whoami", {"name": "x", **body}, token=tokens["accessToken"])
    assert response.status_code == 400 and code(response) == "TENANT_OVERRIDE_FORBIDDEN"
    assert api.post("/v1/test/whoami", {"name": "x"}, token=tokens["accessToken"]).status_code == 201
