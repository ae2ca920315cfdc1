"""The platform API of product credentials (issue 27, contract §1): staff issue, list, rotate and
revoke; the secret in the answers to create and rotate only; everything in the platform's trail."""

import pytest

from audit.models import AuditLog
from identity.models import ProductCredential
from identity.product_credentials import CREDENTIAL_PATTERN
from tenancy.selectors import platform_tenant

pytestmark = pytest.mark.django_db

BASE = "/v1/catalog/tools/erp/credentials"
SHAPE = {"id", "tool", "name", "prefix", "status", "createdAt", "lastUsedAt"}


def data(response):
    return response.json()["data"]


def code(response):
    return response.json()["error"]["code"]


def issue(api, staff_token, name="erp-backend", path=BASE):
    return api.post(path, {"name": name}, token=staff_token)


def test_staff_issue_a_credential_shown_once(api, staff_token):
    response = issue(api, staff_token)
    assert response.status_code == 201, response.content
    body = data(response)
    assert set(body) == SHAPE | {"credential"}
    assert body["tool"] == "erp" and body["status"] == "active" and body["lastUsedAt"] is None
    assert CREDENTIAL_PATTERN.match(body["credential"]).group(1) == body["prefix"]
    listed = api.get(BASE, token=staff_token)
    assert listed.status_code == 200 and [set(row) for row in data(listed)] == [SHAPE]
    assert body["credential"] not in listed.content.decode()
    assert set(listed.json()["meta"]) == {"nextCursor", "hasMore"}


def test_the_credential_authenticates_and_rotation_replaces_it(api, staff_token, world):
    first = data(issue(api, staff_token))
    tenant = {"X-Tenant-Id": str(world.tenant.pk)}
    # /v1/me is not open to products: refused for what the route is, not for the credential.
    assert code(api.get("/v1/me", token=first["credential"], **tenant)) == "FORBIDDEN_ACTION"
    rotated = api.post(f"{BASE}/{first['id']}/rotate", token=staff_token)
    assert rotated.status_code == 200 and set(data(rotated)) == SHAPE | {"credential"}
    assert data(rotated)["id"] == first["id"] and data(rotated)["credential"] != first["credential"]
    assert code(api.get("/v1/me", token=first["credential"], **tenant)) == "INVALID_TOKEN"
    assert code(api.get("/v1/me", token=data(rotated)["credential"], **tenant)) == "FORBIDDEN_ACTION"


def test_revoke_and_what_follows(api, staff_token, world):
    issued = data(issue(api, staff_token))
    revoked = api.post(f"{BASE}/{issued['id']}/revoke", token=staff_token)
    assert revoked.status_code == 200 and data(revoked)["status"] == "revoked" and set(data(revoked)) == SHAPE
    assert code(api.get("/v1/me", token=issued["credential"], **{"X-Tenant-Id": str(world.tenant.pk)})) \
        == "TOKEN_REVOKED"
    assert api.post(f"{BASE}/{issued['id']}/revoke", token=staff_token).status_code == 200
    assert code(api.post(f"{BASE}/{issued['id']}/rotate", token=staff_token)) == "CONFLICT"
    # The name is free again once no active credential holds it.
    assert issue(api, staff_token).status_code == 201
    actions = list(AuditLog.objects.filter(entity_type="product_credential").order_by("sequence")
                   .values_list("action", "tenant_id"))
    platform = platform_tenant().pk
    assert actions == [("product_credentials.create", platform), ("product_credentials.revoke", platform),
                       ("product_credentials.create", platform)]


def test_refusals(api, staff_token):
    assert issue(api, staff_token).status_code == 201
    assert code(issue(api, staff_token)) == "DUPLICATE_RESOURCE"
    assert code(issue(api, staff_token, path="/v1/catalog/tools/nope/credentials")) == "NOT_FOUND"
    assert code(issue(api, staff_token, path="/v1/catalog/tools/hub/credentials")) == "UNPROCESSABLE"
    assert code(api.post(BASE, {"name": "x", "tool": "erp"}, token=staff_token)) == "VALIDATION_ERROR"
    other = ProductCredential.objects.get()
    assert api.post(f"/v1/catalog/tools/gestor/credentials/{other.pk}/revoke", token=staff_token).status_code == 404


def test_a_client_tenant_admin_cannot_reach_them(api, world):
    for method, path in [("GET", BASE), ("POST", BASE)]:
        response = api.call(method, path, {"name": "mine"} if method == "POST" else None, token=world.admin_token)
        assert response.status_code == 403 and code(response) == "FORBIDDEN_ACTION"
        assert response.json()["error"]["details"]["toolAction"].startswith("product_credentials.")
