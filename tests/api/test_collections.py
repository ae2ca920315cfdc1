"""Pagination, filters, ETags and the behaviour of the user, group and API-key routes."""

from datetime import timedelta

import django_filters
import pytest
from django.http import QueryDict
from django.utils import timezone

from audit.models import AuditLog
from identity.api.users import UserFilter
from identity.models import User
from outbox.models import OutboxEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def data(response):
    assert response.status_code < 300, response.content
    return response.json()["data"]


def walk(api, token, path, limit):
    ids, cursor, pages = [], None, 0
    while True:
        response = api.get(f"{path}{'&' if '?' in path else '?'}limit={limit}" + (f"&cursor={cursor}" if cursor else ""), token=token)
        body = response.json()
        ids += [row["id"] for row in body["data"]]
        pages += 1
        if not body["meta"]["hasMore"]:
            assert body["meta"]["nextCursor"] is None
            return ids, pages
        cursor = body["meta"]["nextCursor"]


def test_walking_250_rows_by_50_has_no_gaps_or_duplicates(api, world):
    base = timezone.now() - timedelta(days=1)
    # Same timestamps in pairs: the id breaks the ties.
    for i in range(248):
        UserFactory(tenant=world.tenant, created_at=base + timedelta(seconds=i // 2))
    expected = set(User.objects.filter(tenant=world.tenant, deleted_at__isnull=True).values_list("pk", flat=True))
    assert len(expected) == 250
    ids, pages = walk(api, world.admin_token, "/v1/users", 50)
    assert pages == 5 and len(ids) == 250 and {str(pk) for pk in expected} == set(ids)
    ascending, _ = walk(api, world.admin_token, "/v1/users?sort=created_at:asc", 50)
    assert ascending == list(reversed(ids))


def test_concurrent_inserts_do_not_break_a_walk(api, world):
    for _ in range(120):
        UserFactory(tenant=world.tenant)
    before = {str(pk) for pk in User.objects.filter(tenant=world.tenant).values_list("pk", flat=True)}
    seen, cursor = [], None
    while True:
        path = "/v1/users?limit=50" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(path, token=world.admin_token).json()
        seen += [row["id"] for row in body["data"]]
        UserFactory.create_batch(5, tenant=world.tenant)  # newer rows land before the cursor
        if not body["meta"]["hasMore"]:
            break
        cursor = body["meta"]["nextCursor"]
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "cursor=garbage", "sort=name:asc",
                                   "createdAtFrom=yesterday", "status=bogus"])
def test_bad_list_parameters_are_validation_errors(api, world, query):
    response = api.get(f"/v1/users?{query}", token=world.admin_token)
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_filters(api, world):
    old = UserFactory(tenant=world.tenant, name="Zed Old", email="zed@acme.com", created_at=timezone.now() - timedelta(days=10))
    UserFactory(tenant=world.tenant, name="Suspended", status="suspended")
    rows = data(api.get("/v1/users?q=ZED", token=world.admin_token))
    assert [row["id"] for row in rows] == [str(old.pk)]
    assert all(row["status"] == "suspended" for row in data(api.get("/v1/users?status=suspended", token=world.admin_token)))
    cutoff = (timezone.now() - timedelta(days=5)).isoformat().replace("+00:00", "Z")
    older = data(api.get(f"/v1/users?createdAtTo={cutoff}", token=world.admin_token))
    assert [row["id"] for row in older] == [str(old.pk)]
    newer = data(api.get(f"/v1/users?createdAtFrom={cutoff}", token=world.admin_token))
    assert str(old.pk) not in {row["id"] for row in newer} and newer


def test_the_filter_set_is_skipped_only_when_no_parameter_can_fill_a_filter():
    assert UserFilter.leaves_alone(QueryDict("limit=5&cursor=abc&sort=created_at:asc"))
    assert not UserFilter.leaves_alone(QueryDict("status="))
    assert not UserFilter.leaves_alone(QueryDict("createdAtFrom_after=2026-01-01"))  # a multi-input widget's name

    class Required(UserFilter):
        email = django_filters.CharFilter(required=True)

    assert not Required.leaves_alone(QueryDict("limit=5"))


def test_create_user_with_invitation_and_duplicate(api, world):
    created = api.post("/v1/users", {"email": "New.Person@Acme.com", "name": "New"}, token=world.admin_token)
    assert created.status_code == 201
    body = created.json()["data"]
    assert body["email"] == "New.Person@acme.com" and body["invitation"]["token"] and body["invitation"]["expiresAt"]
    assert "password" not in body
    duplicate = api.post("/v1/users", {"email": "new.person@ACME.com"}, token=world.admin_token)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "DUPLICATE_RESOURCE"
    with_password = api.post("/v1/users", {"email": "pw@acme.com", "password": "a long enough one"}, token=world.admin_token)
    assert "invitation" not in with_password.json()["data"]
    event = OutboxEvent.objects.get(type="user.created", payload__data__userId=body["id"])
    assert body["invitation"]["token"] not in str(event.payload)
    entry = AuditLog.objects.get(action="users.create", entity_id=body["id"])
    assert entry.actor_user == world.admin and entry.metadata["requestId"] == created["X-Request-Id"]


def test_delete_anonymises_and_keeps_the_id(api, world):
    target = data(api.post("/v1/users", {"email": "leaving@acme.com", "name": "Leaving Person"}, token=world.admin_token))
    response = api.call("DELETE", f"/v1/users/{target['id']}", token=world.admin_token)
    assert response.status_code == 204
    user = User.objects.get(pk=target["id"])
    assert user.deleted_at and "leaving" not in user.email and user.name == "" and not user.has_usable_password()
    assert api.get(f"/v1/users/{target['id']}", token=world.admin_token).status_code == 404
    assert AuditLog.objects.filter(action="users.delete", entity_id=target["id"]).count() == 1
    assert api.call("DELETE", f"/v1/users/{world.admin.pk}", token=world.admin_token).status_code == 409


def test_suspending_needs_a_reason_and_locks_the_user_out(api, world):
    target = data(api.post("/v1/users", {"email": "s@acme.com", "password": "a long enough one"}, token=world.admin_token))
    login = api.post("/v1/auth/login", {"tenant": "acme", "email": "s@acme.com", "password": "a long enough one"})
    token = data(login)["accessToken"]
    no_reason = api.call("PATCH", f"/v1/users/{target['id']}/status", {"status": "suspended"}, token=world.admin_token)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["details"]
    ok = api.call("PATCH", f"/v1/users/{target['id']}/status", {"status": "suspended", "reason": "left"}, token=world.admin_token)
    assert data(ok)["status"] == "suspended" and data(ok)["suspendedReason"] == "left"
    assert api.get("/v1/me", token=token).json()["error"]["code"] == "ACCOUNT_SUSPENDED"


def test_etag_and_if_match(api, world):
    path = f"/v1/users/{world.admin.pk}"
    first = api.get(path, token=world.admin_token)
    etag = first["ETag"]
    assert etag.startswith('"')
    stale = api.call("PATCH", path, {"name": "A"}, token=world.admin_token, **{"If-Match": '"not-it"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "PRECONDITION_FAILED"
    assert User.objects.get(pk=world.admin.pk).name == "Admin"
    updated = api.call("PATCH", path, {"name": "A"}, token=world.admin_token, **{"If-Match": etag})
    assert updated.status_code == 200 and updated["ETag"] != etag
    assert api.call("PATCH", path, {"name": "B"}, token=world.admin_token, **{"If-Match": etag}).status_code == 412


def test_groups_membership_and_grants(api, world):
    group = data(api.post("/v1/groups", {"name": "Sales", "description": "d"}, token=world.admin_token))
    dup = api.post("/v1/groups", {"name": "sales"}, token=world.admin_token)
    assert dup.status_code == 409
    target = data(api.post("/v1/users", {"email": "rep@acme.com", "password": "a long enough one"}, token=world.admin_token))
    assert api.post(f"/v1/groups/{group['id']}/users/{target['id']}", token=world.admin_token).status_code == 204
    assert api.post(f"/v1/groups/{group['id']}/users/{target['id']}", token=world.admin_token).status_code == 204
    granted = api.post(f"/v1/groups/{group['id']}/permissions", {"toolActions": ["erp.sales.read", "users.read"]}, token=world.admin_token)
    assert granted.status_code == 201
    assert sorted(row["toolAction"] for row in granted.json()["data"]) == ["erp.sales.read", "users.read"]
    refused = api.post(f"/v1/groups/{group['id']}/permissions",
                       {"toolActions": ["tenants.create", "erp.service_orders.manage", "no.such.action"]}, token=world.admin_token)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "UNPROCESSABLE"
    assert refused.json()["error"]["details"]["toolActions"] == ["erp.service_orders.manage", "no.such.action", "tenants.create"]
    rep = data(api.post("/v1/auth/login", {"tenant": "acme", "email": "rep@acme.com", "password": "a long enough one"}))["accessToken"]
    assert api.post("/v1/authz/check", {"toolActions": ["erp.sales.read"]}, token=rep).json()["data"] == {"erp.sales.read": True}
    permission_id = next(row["id"] for row in granted.json()["data"] if row["toolAction"] == "erp.sales.read")
    assert api.call("DELETE", f"/v1/groups/{group['id']}/permissions/{permission_id}", token=world.admin_token).status_code == 204
    # Seen on the very next request: the permission cache was invalidated.
    assert api.post("/v1/authz/check", {"toolActions": ["erp.sales.read"]}, token=rep).json()["data"] == {"erp.sales.read": False}
    assert api.call("DELETE", f"/v1/groups/{group['id']}/users/{target['id']}", token=world.admin_token).status_code == 204
    assert api.post("/v1/authz/check", {"toolActions": ["users.read"]}, token=rep).json()["data"] == {"users.read": False}
    assert api.call("DELETE", f"/v1/groups/{group['id']}/users/{target['id']}", token=world.admin_token).status_code == 404
    assert OutboxEvent.objects.filter(type="group.permission.changed", payload__data__groupId=group["id"]).count() == 2


def test_permissions_are_the_union_of_active_groups(api, world):
    from audit.services import SYSTEM
    from identity.services import add_member, create_group, create_user, grant_permissions, set_group_status

    user = create_user(tenant=world.tenant, email="multi@acme.com", password="a long enough one").user
    readers, writers = (create_group(tenant=world.tenant, name=name, actor=SYSTEM) for name in ("readers", "writers"))
    grant_permissions(group=readers, tool_action_keys=["users.read"], actor=SYSTEM)
    grant_permissions(group=writers, tool_action_keys=["users.create"], actor=SYSTEM)
    add_member(group=readers, user=user, actor=SYSTEM)
    add_member(group=writers, user=user, actor=SYSTEM)
    token = data(api.post("/v1/auth/login", {"tenant": "acme", "email": "multi@acme.com", "password": "a long enough one"}))["accessToken"]
    check = {"toolActions": ["users.read", "users.create", "users.delete"]}
    assert data(api.post("/v1/authz/check", check, token=token)) == {"users.read": True, "users.create": True, "users.delete": False}
    set_group_status(group=writers, status="suspended", reason="freeze", actor=SYSTEM)
    assert data(api.post("/v1/authz/check", check, token=token))["users.create"] is False


def test_api_keys_routes(api, world):
    created = api.post("/v1/api-keys", {"name": "erp-sync", "profile": "read-only", "allowedIps": ["10.0.0.0/8"]}, token=world.admin_token)
    assert created.status_code == 201
    body = created.json()["data"]
    assert body["key"].startswith(f"aza8_{body['prefix']}_") and body["allowedIps"] == ["10.0.0.0/8"]
    listed = data(api.get("/v1/api-keys", token=world.admin_token))
    assert all("key" not in row and "digest" not in row for row in listed)
    rotated = data(api.post(f"/v1/api-keys/{body['id']}/rotate", token=world.admin_token))
    assert rotated["key"] != body["key"]
    revoked = api.call("PATCH", f"/v1/api-keys/{body['id']}/status", {"status": "revoked", "reason": "rotated out"},
                       token=world.admin_token)
    assert data(revoked)["status"] == "revoked"
    assert OutboxEvent.objects.filter(type="api_key.revoked", payload__data__apiKeyId=body["id"]).exists()
    again = api.call("PATCH", f"/v1/api-keys/{body['id']}/status", {"status": "active", "reason": "undo"},
                     token=world.admin_token)
    assert again.status_code == 409


def test_a_key_cannot_outrank_its_creator(api, world):
    token = world.token_with("api_keys.create", "users.read")
    escalate = api.post("/v1/api-keys", {"name": "sneaky", "profile": "admin"}, token=token)
    assert escalate.status_code == 403 and "users.delete" in escalate.json()["error"]["details"]["toolActions"]
    fine = api.post("/v1/api-keys", {"name": "narrow", "scopes": ["users.read"]}, token=token)
    assert fine.status_code == 201


def test_api_key_profiles_and_scopes_decide_what_a_service_may_do(api, world):
    from identity.services import create_api_key

    reader = create_api_key(tenant=world.tenant, name="reader", profile="read-only").key
    scoped = create_api_key(tenant=world.tenant, name="scoped", scopes=["groups.read"]).key
    check = {"toolActions": ["users.read", "users.create", "groups.read", "erp.sales.read", "tenants.read"]}
    assert data(api.post("/v1/authz/check", check, token=reader)) == {
        "users.read": True, "users.create": False, "groups.read": True, "erp.sales.read": True, "tenants.read": False
    }
    assert data(api.post("/v1/authz/check", check, token=scoped)) == {
        "users.read": False, "users.create": False, "groups.read": True, "erp.sales.read": False, "tenants.read": False
    }
    assert api.get("/v1/users", token=scoped).status_code == 403
    assert api.get("/v1/groups", token=scoped).status_code == 200


def test_me(api, world):
    body = data(api.get("/v1/me", token=world.admin_token))
    assert body["principal"] == {"type": "user", "id": str(world.admin.pk), "email": "admin@acme.com", "name": "Admin"}
    assert body["tenant"] == {"id": str(world.tenant.pk), "slug": "acme", "name": "Acme"}
    assert [group["name"] for group in body["groups"]] == ["ADM_CLIENTE"]
    assert "users.create" in body["permissions"] and "erp.sales.create" in body["permissions"]
    assert "tenants.create" not in body["permissions"]
    assert body["packages"] == [{"key": "erp-basic", "name": "Dealer ERP Basic", "expiresAt": None}]
    assert body["branding"] is None


def test_authz_check_keeps_keys_verbatim(api, world):
    response = api.post("/v1/authz/check", {"toolActions": ["erp.sales.read", "erp.service_orders.manage", "made.up"]},
                        token=world.admin_token)
    assert response.json()["data"] == {"erp.sales.read": True, "erp.service_orders.manage": False, "made.up": False}


def test_audit_log_listing_and_filters(api, world):
    created = data(api.post("/v1/users", {"email": "audited@acme.com"}, token=world.admin_token))
    api.call("PATCH", f"/v1/users/{created['id']}", {"name": "Renamed"}, token=world.admin_token)
    rows = data(api.get("/v1/audit-logs?limit=200", token=world.admin_token))
    assert rows[0]["action"] == "users.update" and rows[0]["metadata"]["changedFields"] == ["name"]
    assert [row["sequence"] for row in rows] == sorted((row["sequence"] for row in rows), reverse=True)
    by_entity = data(api.get(f"/v1/audit-logs?entityType=user&entityId={created['id']}", token=world.admin_token))
    assert [row["action"] for row in by_entity] == ["users.update", "users.create"]
    by_actor = data(api.get(f"/v1/audit-logs?actor={world.admin.pk}&action=users.create", token=world.admin_token))
    assert [row["entityId"] for row in by_actor] == [created["id"]]
    system = data(api.get("/v1/audit-logs?actorType=system&limit=200", token=world.admin_token))
    assert system and all(row["actorType"] == "system" for row in system)
    assert api.get("/v1/audit-logs?actorType=robot", token=world.admin_token).status_code == 400
    assert api.call("DELETE", f"/v1/audit-logs/{rows[0]['id']}", token=world.admin_token).status_code == 405


def test_each_audited_write_leaves_exactly_one_entry_with_the_request_id(api, world):
    token = world.admin_token
    user = data(api.post("/v1/users", {"email": "one@acme.com", "password": "a long enough one"}, token=token))
    group = data(api.post("/v1/groups", {"name": "audited"}, token=token))
    key = data(api.post("/v1/api-keys", {"name": "audited", "profile": "read-only"}, token=token))
    calls = [
        ("PATCH", f"/v1/users/{user['id']}", {"name": "One"}, "users.update"),
        ("PATCH", f"/v1/users/{user['id']}/status", {"status": "suspended", "reason": "r"}, "users.status.update"),
        ("PATCH", f"/v1/groups/{group['id']}", {"description": "x"}, "groups.update"),
        ("POST", f"/v1/groups/{group['id']}/users/{user['id']}", None, "groups.members.add"),
        ("POST", f"/v1/groups/{group['id']}/permissions", {"toolActions": ["users.read"]}, "groups.permissions.grant"),
        ("POST", f"/v1/api-keys/{key['id']}/rotate", None, "api_keys.rotate"),
        ("PATCH", f"/v1/api-keys/{key['id']}/status", {"status": "revoked", "reason": "leaked"}, "api_keys.status.update"),
        ("PUT", "/v1/branding", {"primaryColor": "#010203"}, "branding.update"),
        ("PUT", "/v1/config", {"flags": {"x": True}}, "config.update"),
        ("DELETE", f"/v1/groups/{group['id']}/users/{user['id']}", None, "groups.members.remove"),
        ("DELETE", f"/v1/users/{user['id']}", None, "users.delete"),
    ]
    for method, path, body, action in calls:
        before = AuditLog.objects.filter(tenant=world.tenant).count()
        response = api.call(method, path, body or {}, token=token)
        assert response.status_code < 300, (path, response.content)
        assert AuditLog.objects.filter(tenant=world.tenant).count() == before + 1, action
        entry = AuditLog.objects.filter(tenant=world.tenant).order_by("-sequence").first()
        assert entry.action == action and entry.metadata["requestId"] == response["X-Request-Id"]
        assert entry.actor_user == world.admin and entry.actor_type == "user"
