"""One matrix over every tenant-scoped endpoint (NetBox's APIViewTestCases in spirit):
no credentials → 401, no permission → 403 naming the action, exactly the action → allowed,
another tenant's ids → 404, lists never show another tenant's rows."""

import pytest

from audit.services import SYSTEM
from identity.models import Group
from identity.services import create_api_key, create_user
from outbox.models import EventStatus, OutboxEvent, WebhookDelivery

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("GET", "/v1/users", "users.read", None),
    ("GET", "/v1/users/{user}", "users.read", None),
    ("POST", "/v1/users", "users.create", {"email": "matrix@example.com", "name": "M"}),
    ("PATCH", "/v1/users/{user}", "users.update", {"name": "Renamed"}),
    ("PATCH", "/v1/users/{user}/status", "users.status.update", {"status": "suspended", "reason": "audit"}),
    ("DELETE", "/v1/users/{user}", "users.delete", None),
    ("GET", "/v1/groups", "groups.read", None),
    ("GET", "/v1/groups/{group}", "groups.read", None),
    ("POST", "/v1/groups", "groups.create", {"name": "matrix-group"}),
    ("PATCH", "/v1/groups/{group}", "groups.update", {"description": "changed"}),
    ("PATCH", "/v1/groups/{group}/status", "groups.status.update", {"status": "suspended", "reason": "audit"}),
    ("POST", "/v1/groups/{group}/users/{user}", "groups.members.add", None),
    ("DELETE", "/v1/groups/{group}/users/{member}", "groups.members.remove", None),
    ("GET", "/v1/groups/{group}/users", "groups.read", None),
    ("GET", "/v1/groups/{group}/permissions", "groups.read", None),
    ("POST", "/v1/groups/{group}/permissions", "groups.permissions.grant", {"toolActions": ["users.read"]}),
    ("DELETE", "/v1/groups/{group}/permissions/{permission}", "groups.permissions.revoke", None),
    ("GET", "/v1/api-keys", "api_keys.read", None),
    ("GET", "/v1/api-keys/{api_key}", "api_keys.read", None),
    ("POST", "/v1/api-keys", "api_keys.create", {"name": "matrix-key", "scopes": ["users.read"]}),
    ("PATCH", "/v1/api-keys/{api_key}/status", "api_keys.status.update", {"status": "revoked", "reason": "audit"}),
    ("POST", "/v1/api-keys/{api_key}/rotate", "api_keys.rotate", None),
    ("GET", "/v1/branding", "branding.read", None),
    ("PUT", "/v1/branding", "branding.update", {"primaryColor": "#000000"}),
    ("GET", "/v1/config", "config.read", None),
    ("PUT", "/v1/config", "config.update", {"flags": {"beta": True}}),
    ("GET", "/v1/usage", "usage.read", None),
    ("POST", "/v1/usage/events", "usage.report", {"toolAction": "users.read", "count": 2}),
    ("GET", "/v1/webhooks", "webhooks.read", None),
    ("GET", "/v1/webhooks/{webhook}", "webhooks.read", None),
    ("POST", "/v1/webhooks", "webhooks.create", {"url": "https://hooks.example.com/m", "eventTypes": ["user.created"]}),
    ("PATCH", "/v1/webhooks/{webhook}", "webhooks.update", {"description": "changed"}),
    ("POST", "/v1/webhooks/{webhook}/rotate-secret", "webhooks.update", None),
    ("GET", "/v1/webhooks/{webhook}/deliveries", "webhooks.read", None),
    ("GET", "/v1/webhooks/{webhook}/deliveries/{delivery}/attempts", "webhooks.read", None),
    ("POST", "/v1/webhooks/{webhook}/deliveries/{delivery}/retry", "webhooks.update", None),
    ("POST", "/v1/webhooks/{webhook}/deliveries/{delivery}/replay", "webhooks.update", None),
    ("POST", "/v1/webhooks/{webhook}/recover", "webhooks.update", {"since": "2026-01-01T00:00:00Z"}),
    ("DELETE", "/v1/webhooks/{webhook}", "webhooks.delete", None),
    ("GET", "/v1/integrations/credentials", "integrations.read", None),
    ("GET", "/v1/integrations/credentials/{credential}", "integrations.read", None),
    ("POST", "/v1/integrations/credentials", "integrations.create",
     {"provider": "stripe", "name": "matrix", "data": {"apiKey": "sk-matrix"}}),
    ("DELETE", "/v1/integrations/credentials/{credential}", "integrations.delete", None),
    ("POST", "/v1/exports", "tenant.export", None),
    ("GET", "/v1/exports/{export}", "tenant.export", None),
    ("GET", "/v1/exports/{export}/download", "tenant.export", None),
    ("GET", "/v1/audit-logs", "audit_logs.read", None),
    ("GET", "/v1/audit-logs/{audit_entry}", "audit_logs.read", None),
]
IDS = [f"{method} {path}" for method, path, _action, _body in ENDPOINTS]


def delivery_of(subscription):
    """A delivery of `subscription` not yet due, as the fan-out writes one (no worker sends it)."""
    event = OutboxEvent.objects.create(tenant=subscription.tenant, type="user.created", status=EventStatus.DONE)
    return WebhookDelivery.objects.create(tenant=subscription.tenant, event=event, subscription=subscription)


@pytest.fixture(autouse=True)
def other_delivery(world):
    world.other_objects["delivery"] = delivery_of(world.other_objects["webhook"])


def own_objects(world):
    """Objects in the caller's tenant to point the routes at."""
    user = create_user(tenant=world.tenant, email="target@acme.com", password="x" * 12).user
    group = Group.objects.get(tenant=world.tenant, name="VIEWER")
    member = create_user(tenant=world.tenant, email="member@acme.com", password="x" * 12).user
    from identity.services import add_member

    add_member(group=group, user=member, actor=SYSTEM)
    from audit.models import AuditLog
    from exports.services import build_export, request_export
    from integrations.services import create_credential
    from outbox.services import create_subscription

    export = request_export(tenant=world.tenant, actor=SYSTEM)
    build_export(export.pk)
    webhook = create_subscription(tenant=world.tenant, url="https://hooks.example.com/own",
                                  event_types=["user.created"], actor=SYSTEM).subscription
    return {
        "export": export,
        "credential": create_credential(tenant=world.tenant, provider="stripe", name="own", data={"apiKey": "sk"},
                                        actor=SYSTEM),
        "webhook": webhook,
        "delivery": delivery_of(webhook),
        "audit_entry": AuditLog.objects.filter(tenant=world.tenant).first(),
        "user": user,
        "member": member,
        "group": group,
        "api_key": create_api_key(tenant=world.tenant, name="target-key", profile="read-only").api_key,
        "permission": group.grants.first(),
    }


def fill(path, objects):
    return path.format(**{name: obj.pk for name, obj in objects.items()})


@pytest.mark.parametrize("method, path, action, body", ENDPOINTS, ids=IDS)
def test_no_credentials_is_401(api, world, method, path, action, body):
    objects = {**world.other_objects, "member": world.other_objects["user"]}
    response = api.call(method, fill(path, objects), body or {})
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("method, path, action, body", ENDPOINTS, ids=IDS)
def test_without_the_action_is_403_naming_it(api, world, method, path, action, body):
    response = api.call(method, fill(path, own_objects(world)), body or {}, token=world.nobody_token)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "FORBIDDEN_ACTION" and error["details"] == {"toolAction": action}


@pytest.mark.parametrize("method, path, action, body", ENDPOINTS, ids=IDS)
def test_exactly_the_action_is_enough(api, world, method, path, action, body):
    objects = own_objects(world)
    token = world.token_with(action, "users.read")
    response = api.call(method, fill(path, objects), body or {}, token=token)
    assert response.status_code in (200, 201, 204), response.content


@pytest.mark.parametrize(
    "method, path, action, body", [endpoint for endpoint in ENDPOINTS if "{" in endpoint[1]],
    ids=[i for i, endpoint in zip(IDS, ENDPOINTS) if "{" in endpoint[1]],
)
def test_another_tenants_ids_are_not_found(api, world, method, path, action, body):
    objects = {**world.other_objects, "member": world.other_objects["user"]}
    response = api.call(method, fill(path, objects), body or {}, token=world.admin_token)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    for name, obj in world.other_objects.items():
        if obj is not None:
            assert type(obj).objects.filter(pk=obj.pk).exists(), name
    assert world.other_objects["user"].__class__.objects.get(pk=world.other_objects["user"].pk).status == "active"


def test_mixing_own_group_with_another_tenants_user_is_not_found(api, world):
    group = Group.objects.get(tenant=world.tenant, name="VIEWER")
    response = api.post(f"/v1/groups/{group.pk}/users/{world.other_objects['user'].pk}", token=world.admin_token)
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/v1/users", "/v1/groups", "/v1/api-keys", "/v1/audit-logs"])
def test_lists_never_show_another_tenants_rows(api, world, path):
    response = api.get(f"{path}?limit=200", token=world.admin_token)
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["data"]}
    assert ids
    from audit.models import AuditLog
    from identity.models import ApiKey, User

    foreign = {
        str(pk)
        for model in (User, Group, ApiKey, AuditLog)
        for pk in model.objects.filter(tenant=world.other).values_list("pk", flat=True)
    }
    assert not ids & foreign


def test_group_permissions_list_is_tenant_scoped(api, world):
    group = Group.objects.get(tenant=world.tenant, name="ADM_CLIENTE")
    response = api.get(f"/v1/groups/{group.pk}/permissions?limit=200", token=world.admin_token)
    foreign = {str(pk) for pk in world.other_objects["group"].grants.values_list("pk", flat=True)}
    assert response.status_code == 200 and not {row["id"] for row in response.json()["data"]} & foreign
