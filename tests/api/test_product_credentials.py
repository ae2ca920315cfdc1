"""Product credentials (issue 27, contract §1–2): issued once, kept as a digest, authenticating a
product principal in the tenant X-Tenant-Id names, only where a route lets products in."""

import re
import uuid

import pytest
from django.urls import resolve

from audit.models import AuditLog
from audit.services import SYSTEM
from catalog.models import Tool
from core.api.access import PUBLIC
from identity.models import ProductCredential
from identity.product_credentials import (
    CREDENTIAL_PATTERN,
    issue_product_credential,
    revoke_product_credential,
    rotate_product_credential,
)
from tenancy.selectors import platform_tenant
from tenancy.services import set_tenant_status
from tests.api.test_route_declarations import declarations

pytestmark = pytest.mark.django_db


@pytest.fixture
def product_urls(settings):
    settings.ROOT_URLCONF = "tests.identity.product_urls"


@pytest.fixture
def erp(seeded):
    return Tool.objects.get(key="erp")


@pytest.fixture
def issued(erp):
    return issue_product_credential(tool=erp, name="erp-backend", actor=SYSTEM)


def error(response):
    return response.json()["error"]


def ask(api, issued, tenant=None, path="/v1/test/product", secret=None):
    headers = {"X-Tenant-Id": str(tenant.pk)} if tenant is not None else {}
    return api.get(path, token=secret or issued.secret, **headers)


def test_issued_once_and_kept_as_a_prefix_and_a_digest(issued, erp):
    credential, secret = issued
    prefix, body = CREDENTIAL_PATTERN.match(secret).groups()
    stored = ProductCredential.objects.values().get(pk=credential.pk)
    assert stored["prefix"] == prefix and stored["tool_id"] == erp.pk and stored["status"] == "active"
    assert body not in str(stored) and len(stored["key_hash"]) == 64
    entry = AuditLog.objects.get(action="product_credentials.create", entity_id=str(credential.pk))
    assert entry.tenant_id == platform_tenant().pk and entry.metadata["tool"] == "erp"


def test_one_active_credential_per_tool_and_name(issued, erp):
    from core.api.exceptions import DuplicateResource

    with pytest.raises(DuplicateResource):
        issue_product_credential(tool=erp, name="erp-backend")
    revoke_product_credential(credential=issued.credential)
    assert issue_product_credential(tool=erp, name="erp-backend").credential.status == "active"


def test_the_hubs_own_tool_takes_no_credential(seeded):
    from core.api.exceptions import Unprocessable

    with pytest.raises(Unprocessable):
        issue_product_credential(tool=Tool.objects.get(key="hub"), name="hub")


def test_a_product_acts_in_the_entitled_tenant_it_names(api, world, issued, product_urls):
    response = ask(api, issued, world.tenant)
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"type": "product", "id": str(issued.credential.pk), "tool": "erp",
                                       "tenant": str(world.tenant.pk)}
    issued.credential.refresh_from_db()
    assert issued.credential.last_used_at is not None


@pytest.mark.parametrize("secret, code", [
    ("aza8p_short", "INVALID_TOKEN"),
    ("aza8p_AAAAAAAAAAAA_" + "A" * 43, "INVALID_TOKEN"),
])
def test_a_bad_credential_is_401(api, world, issued, product_urls, secret, code):
    response = ask(api, issued, world.tenant, secret=secret)
    assert response.status_code == 401 and error(response)["code"] == code


def test_a_wrong_secret_for_a_real_prefix_is_401(api, world, issued, product_urls):
    prefix = issued.credential.prefix
    response = ask(api, issued, world.tenant, secret=f"aza8p_{prefix}_{'B' * 43}")
    assert response.status_code == 401 and error(response)["code"] == "INVALID_TOKEN"


def test_a_revoked_credential_is_401_token_revoked_at_once(api, world, issued, product_urls):
    assert ask(api, issued, world.tenant).status_code == 200
    revoke_product_credential(credential=issued.credential, actor=SYSTEM)
    response = ask(api, issued, world.tenant)
    assert response.status_code == 401 and error(response)["code"] == "TOKEN_REVOKED"


def test_rotation_retires_the_old_secret_at_once(api, world, issued, product_urls):
    assert ask(api, issued, world.tenant).status_code == 200
    rotated = rotate_product_credential(credential=issued.credential, actor=SYSTEM)
    assert rotated.credential.pk == issued.credential.pk and rotated.secret != issued.secret
    assert error(ask(api, issued, world.tenant))["code"] == "INVALID_TOKEN"
    assert ask(api, rotated, world.tenant).status_code == 200


@pytest.mark.parametrize("header", [None, "", "not-a-uuid"])
def test_a_tenant_route_needs_x_tenant_id(api, issued, product_urls, header):
    headers = {} if header is None else {"X-Tenant-Id": header}
    response = api.get("/v1/test/product", token=issued.secret, **headers)
    assert response.status_code == 400 and error(response)["code"] == "VALIDATION_ERROR"
    assert "X-Tenant-Id" in error(response)["details"]


def test_an_unknown_tenant_is_404(api, issued, product_urls):
    response = api.get("/v1/test/product", token=issued.secret, **{"X-Tenant-Id": str(uuid.uuid4())})
    assert response.status_code == 404 and error(response)["code"] == "TENANT_NOT_FOUND"


def test_a_suspended_tenant_is_403(api, world, issued, product_urls):
    set_tenant_status(tenant=world.tenant, status="suspended", reason="unpaid", actor=SYSTEM)
    response = ask(api, issued, world.tenant)
    assert response.status_code == 403 and error(response)["code"] == "TENANT_SUSPENDED"


def test_a_tenant_not_entitled_to_the_tool_is_403_tool_not_entitled(api, world, product_urls):
    hotelbot = issue_product_credential(tool=Tool.objects.get(key="hotelbot"), name="bot")
    response = ask(api, hotelbot, world.tenant)
    assert response.status_code == 403 and error(response)["code"] == "TOOL_NOT_ENTITLED"


def test_a_platform_route_takes_no_tenant(api, issued, product_urls):
    response = api.get("/v1/test/product-platform", token=issued.secret)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["tenant"] == str(platform_tenant().pk)


def test_only_a_product_may_call_a_product_route(api, world, product_urls):
    response = api.get("/v1/test/product", token=world.admin_token, **{"X-Tenant-Id": str(world.tenant.pk)})
    assert response.status_code == 403 and error(response)["code"] == "CREDENTIAL_NOT_ALLOWED"


def test_a_product_holds_no_tenant_permission(world, issued):
    from identity.authorization import effective_permissions, principal_access
    from identity.principal import PRODUCT, Principal

    principal = Principal(type=PRODUCT, tenant=world.tenant, product_credential=issued.credential,
                          tool=issued.credential.tool)
    assert effective_permissions(principal) == frozenset()
    assert principal_access(principal).groups == () and principal_access(principal).packages == ()


@pytest.mark.parametrize("path", ["/v1/me", "/v1/users", "/v1/catalog/tools"])
def test_a_product_is_refused_on_routes_not_open_to_it(api, world, issued, path):
    response = ask(api, issued, world.tenant, path=path)
    assert response.status_code == 403 and error(response)["code"] == "FORBIDDEN_ACTION"


def _concrete(route: str) -> str:
    """A path the route matches: ids as UUIDs, keys as a tool's key."""
    def value(match):
        return "erp" if "key" in match.group(1) else str(uuid.uuid4())

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", value, route.replace("^", "").replace("$", ""))
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, path)


def _methods(view, actions) -> list[str]:
    if actions:
        return sorted(method.upper() for method in actions)
    return sorted(method.upper() for method in view.http_method_names if method != "options" and hasattr(view, method))


def test_every_route_not_open_to_products_refuses_them(api, world, issued):
    """Deny by default, walked over the real URL list: with a valid credential and an entitled tenant,
    every route that does not declare `product_access` answers 403 FORBIDDEN_ACTION to a product."""
    checked = 0
    for route, view, declared, actions in declarations():
        if declared in (None, PUBLIC) or getattr(view, "product_access", None):
            continue
        path = _concrete(route)
        assert resolve(path).func.__name__ == view.__name__ or getattr(resolve(path).func, "cls", None) is view, route
        for method in _methods(view, actions):
            response = api.call(method, path, {}, token=issued.secret, **{"X-Tenant-Id": str(world.tenant.pk)})
            assert response.status_code == 403, (method, path, response.content)
            if method != "HEAD":  # no body
                assert error(response)["code"] == "FORBIDDEN_ACTION", (method, path)
            checked += 1
    assert checked >= 60


def test_rate_limited_per_credential_not_per_address(api, world, issued, erp, product_urls, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "product": 2}
    other = issue_product_credential(tool=erp, name="erp-reports")
    assert ask(api, issued, world.tenant).status_code == 200
    assert api.get("/v1/test/product", token=issued.secret, REMOTE_ADDR="10.0.0.2",
                   **{"X-Tenant-Id": str(world.tenant.pk)}).status_code == 200
    refused = api.get("/v1/test/product", token=issued.secret, REMOTE_ADDR="10.0.0.3",
                      **{"X-Tenant-Id": str(world.other.pk)})
    assert refused.status_code == 429 and error(refused)["code"] == "RATE_LIMITED" and refused["Retry-After"]
    # Another credential behind the same address, and the tenant's own users, count on their own.
    assert ask(api, other, world.tenant).status_code == 200
    assert api.get("/v1/me", token=world.admin_token).status_code == 200
