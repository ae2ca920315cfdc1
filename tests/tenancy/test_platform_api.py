"""The platform API over HTTP: onboarding story, packages, suspension, catalog management."""

import pytest

from audit.models import AuditLog
from catalog.models import Tool, ToolAction
from identity.models import Group, GroupPermission, User
from identity.services import create_api_key
from outbox.models import OutboxEvent
from tenancy.models import Tenant, TenantPackage
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def data(response, status=200):
    assert response.status_code == status, response.content
    return response.json()["data"]


ONBOARD = {"slug": "dealer-one", "name": "Dealer One", "packageKey": "erp-basic",
           "adminUser": {"email": "boss@dealer.com", "name": "Boss"}}


def test_the_onboarding_story(api, staff_token):
    body = data(api.post("/v1/tenants", ONBOARD, token=staff_token), 201)
    tenant_id = body["tenant"]["id"]
    assert body["tenant"]["slug"] == "dealer-one" and body["tenant"]["packages"][0]["key"] == "erp-basic"
    assert body["package"]["key"] == "erp-basic"
    invitation = body["adminUser"]["invitation"]
    assert body["adminUser"]["email"] == "boss@dealer.com" and invitation["token"]
    tenant = Tenant.objects.get(pk=tenant_id)
    assert {group.name for group in Group.objects.filter(tenant=tenant)} == {"ADM_CLIENTE", "OPERATOR", "VIEWER"}
    assert {event.type for event in OutboxEvent.objects.filter(tenant=tenant)} >= {
        "tenant.created", "tenant.package.assigned", "user.created"}
    assert AuditLog.objects.filter(tenant=tenant, action="tenants.create").count() == 1

    # The new admin accepts the invitation, logs in and sees the tenant.
    data(api.post("/v1/auth/invitations/accept", {"token": invitation["token"], "password": PASSWORD}))
    token = data(api.post("/v1/auth/login", {"tenant": "dealer-one", "email": "boss@dealer.com", "password": PASSWORD}))["accessToken"]
    me = data(api.get("/v1/me", token=token))
    assert [group["name"] for group in me["groups"]] == ["ADM_CLIENTE"]
    assert [package["key"] for package in me["packages"]] == ["erp-basic"]
    assert "erp.sales.create" in me["permissions"] and "tenants.create" not in me["permissions"]
    # ...and manages a user.
    data(api.post("/v1/users", {"email": "seller@dealer.com", "name": "Seller"}, token=token), 201)

    # A package assigned later shows up in authz/check straight away.
    check = {"toolActions": ["hotelbot.messages.send"]}
    assert data(api.post("/v1/authz/check", check, token=token)) == {"hotelbot.messages.send": False}
    data(api.post(f"/v1/tenants/{tenant_id}/packages/hotelbot-standard/assign", {}, token=staff_token))
    assert data(api.post("/v1/authz/check", check, token=token)) == {"hotelbot.messages.send": True}
    # Unassigning removes the entitlement at once.
    data(api.post(f"/v1/tenants/{tenant_id}/packages/hotelbot-standard/unassign", token=staff_token))
    assert data(api.post("/v1/authz/check", check, token=token)) == {"hotelbot.messages.send": False}
    # package.unassigned belongs to the standard profile; the default (mvp) does not emit it.
    assert not OutboxEvent.objects.filter(tenant=tenant, type="package.unassigned").exists()

    # Suspension blocks the tenant's very next request; reactivation restores it.
    suspended = data(api.call("PATCH", f"/v1/tenants/{tenant_id}/status", {"status": "suspended", "reason": "unpaid"},
                              token=staff_token))
    assert suspended["status"] == "suspended" and suspended["suspendedReason"] == "unpaid"
    blocked = api.get("/v1/me", token=token)
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "TENANT_SUSPENDED"
    data(api.call("PATCH", f"/v1/tenants/{tenant_id}/status", {"status": "active", "reason": "paid"}, token=staff_token))
    assert api.get("/v1/me", token=token).status_code == 200


def test_onboarding_is_all_or_nothing(api, staff_token, monkeypatch):
    from identity import onboarding

    def failing_create_user(**kwargs):
        raise RuntimeError("injected failure after the tenant insert")

    monkeypatch.setattr(onboarding, "create_user", failing_create_user)
    before = {model: model.objects.count() for model in (Tenant, TenantPackage, Group, GroupPermission, User, OutboxEvent, AuditLog)}
    response = api.post("/v1/tenants", ONBOARD, token=staff_token)
    assert response.status_code == 500
    after = {model: model.objects.count() for model in before}
    assert after == before
    assert not Tenant.objects.filter(slug="dealer-one").exists()


@pytest.mark.parametrize(
    "change, field, status",
    [({"slug": "Bad Slug"}, "slug", 400), ({"packageKey": "nope"}, "packageKey", 422),
     ({"adminUser": {"name": "x"}}, "adminUser", 400)],
)
def test_onboarding_validation(api, staff_token, change, field, status):
    response = api.post("/v1/tenants", {**ONBOARD, **change}, token=staff_token)
    assert response.status_code == status and field in response.json()["error"]["details"]
    assert not Tenant.objects.filter(slug="dealer-one").exists()


def test_duplicate_slug_and_idempotent_onboarding(api, staff_token):
    first = api.post("/v1/tenants", ONBOARD, token=staff_token, **{"Idempotency-Key": "onboard-1"})
    replay = api.post("/v1/tenants", ONBOARD, token=staff_token, **{"Idempotency-Key": "onboard-1"})
    assert first.status_code == replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert api.post("/v1/tenants", ONBOARD, token=staff_token).status_code == 409


def test_list_filters_and_detail(api, staff_token):
    data(api.post("/v1/tenants", ONBOARD, token=staff_token), 201)
    data(api.post("/v1/tenants", {**ONBOARD, "slug": "hotel-x", "name": "Hotel X", "packageKey": "hotelbot-standard",
                                  "adminUser": {"email": "h@x.com"}}, token=staff_token), 201)
    slugs = [row["slug"] for row in data(api.get("/v1/tenants", token=staff_token))]
    assert {"aza8", "dealer-one", "hotel-x"} <= set(slugs)
    assert [row["slug"] for row in data(api.get("/v1/tenants?package=hotelbot-standard", token=staff_token))] == ["hotel-x"]
    assert [row["slug"] for row in data(api.get("/v1/tenants?q=DEALER", token=staff_token))] == ["dealer-one"]
    hotel = Tenant.objects.get(slug="hotel-x")
    assert data(api.get(f"/v1/tenants/{hotel.pk}", token=staff_token))["name"] == "Hotel X"


def test_the_platform_tenant_cannot_be_suspended(api, staff_token):
    platform = Tenant.objects.get(slug="aza8")
    response = api.call("PATCH", f"/v1/tenants/{platform.pk}/status", {"status": "suspended", "reason": "x"}, token=staff_token)
    assert response.status_code == 409


def test_tenant_seed_endpoint_tops_up(api, staff_token):
    tenant = Tenant.objects.get(pk=data(api.post("/v1/tenants", ONBOARD, token=staff_token), 201)["tenant"]["id"])
    GroupPermission.objects.filter(tenant=tenant, group__name="VIEWER").delete()
    changes = data(api.post(f"/v1/tenants/{tenant.pk}/seeds", token=staff_token))["changes"]
    assert changes == [line for line in changes if "VIEWER" in line] and changes
    assert data(api.post(f"/v1/tenants/{tenant.pk}/seeds", token=staff_token))["changes"] == []


def test_client_tenants_never_reach_platform_routes(api, staff_token):
    onboarded = data(api.post("/v1/tenants", ONBOARD, token=staff_token), 201)
    data(api.post("/v1/auth/invitations/accept", {"token": onboarded["adminUser"]["invitation"]["token"], "password": PASSWORD}))
    token = data(api.post("/v1/auth/login", {"tenant": "dealer-one", "email": "boss@dealer.com", "password": PASSWORD}))["accessToken"]
    group = Group.objects.get(tenant_id=onboarded["tenant"]["id"], name="ADM_CLIENTE")
    # Every grant it can obtain: platform actions are refused...
    refused = api.post(f"/v1/groups/{group.pk}/permissions", {"toolActions": ["tenants.create"]}, token=token)
    assert refused.status_code == 422
    admin_key = create_api_key(tenant=Tenant.objects.get(slug="dealer-one"), name="full", profile="admin").key
    for credential in (token, admin_key):
        for method, path, action in [("GET", "/v1/tenants", "tenants.read"), ("POST", "/v1/tenants", "tenants.create"),
                                     ("POST", "/v1/catalog/tools", "catalog.tools.create")]:
            response = api.call(method, path, ONBOARD if method == "POST" else None, token=credential)
            assert response.status_code == 403, (path, response.content)
            assert response.json()["error"]["details"] == {"toolAction": action}


def test_catalog_management(api, staff_token):
    tool = data(api.post("/v1/catalog/tools", {"key": "crm", "name": "CRM"}, token=staff_token), 201)
    assert tool["key"] == "crm" and tool["isCore"] is False
    assert api.post("/v1/catalog/tools", {"key": "crm", "name": "again"}, token=staff_token).status_code == 409
    bad_prefix = api.post("/v1/catalog/tools/crm/actions", {"key": "erp.deals.read", "name": "x", "accessLevel": "read"}, token=staff_token)
    assert bad_prefix.status_code == 422
    platform_scope = api.post("/v1/catalog/tools/crm/actions",
                              {"key": "crm.tenants.read", "name": "x", "accessLevel": "read", "scope": "platform"}, token=staff_token)
    assert platform_scope.status_code == 422
    action = data(api.post("/v1/catalog/tools/crm/actions",
                           {"key": "crm.deals.read", "name": "Read deals", "accessLevel": "read"}, token=staff_token), 201)
    assert action == {**action, "key": "crm.deals.read", "tool": "crm", "scope": "tenant"}
    package = data(api.post("/v1/catalog/packages", {"key": "crm-starter", "name": "CRM Starter"}, token=staff_token), 201)
    assert package["actions"] == []
    added = data(api.post("/v1/catalog/packages/crm-starter/actions", {"actions": ["crm.deals.read"]}, token=staff_token))
    assert added["actions"] == ["crm.deals.read"]
    refused = api.post("/v1/catalog/packages/crm-starter/actions", {"actions": ["tenants.create", "no.such"]}, token=staff_token)
    assert refused.status_code == 422 and refused.json()["error"]["details"]["actions"] == ["no.such", "tenants.create"]
    detail = data(api.get("/v1/catalog/tools/crm", token=staff_token))
    assert [row["key"] for row in detail["actions"]] == ["crm.deals.read"]
    assert AuditLog.objects.filter(action__startswith="catalog.").count() == 4


def test_catalog_reads_for_a_client_tenant(api, staff_token):
    onboarded = data(api.post("/v1/tenants", ONBOARD, token=staff_token), 201)
    reader = create_api_key(tenant=Tenant.objects.get(pk=onboarded["tenant"]["id"]), name="r", profile="read-only").key
    ToolAction.objects.filter(key="erp.parts.read").update(status="suspended")
    tools = {row["key"] for row in data(api.get("/v1/catalog/tools", token=reader))}
    assert {"hub", "gestor", "erp", "hotelbot"} <= tools
    hub = data(api.get("/v1/catalog/tools/hub", token=reader))
    assert all(row["scope"] == "tenant" for row in hub["actions"]) and hub["actions"]
    erp_pro = data(api.get("/v1/catalog/packages/erp-pro", token=reader))
    assert "erp.parts.read" not in erp_pro["actions"] and "erp.parts.manage" in erp_pro["actions"]
    assert api.get("/v1/catalog/tools/nope", token=reader).status_code == 404


def test_deactivating_an_action_removes_it_from_every_effective_permission(api, staff_token):
    from audit.services import SYSTEM
    from catalog.services import set_action_status

    onboarded = data(api.post("/v1/tenants", ONBOARD, token=staff_token), 201)
    key = create_api_key(tenant=Tenant.objects.get(pk=onboarded["tenant"]["id"]), name="w", profile="write").key
    check = {"toolActions": ["erp.sales.create"]}
    assert data(api.post("/v1/authz/check", check, token=key)) == {"erp.sales.create": True}
    action = ToolAction.objects.get(key="erp.sales.create")
    set_action_status(action=action, status="suspended", reason="recall", actor=SYSTEM, actor_tenant=Tenant.objects.get(slug="aza8"))
    assert data(api.post("/v1/authz/check", check, token=key)) == {"erp.sales.create": False}
    Tool.objects.get(key="erp")  # the tool itself is untouched
