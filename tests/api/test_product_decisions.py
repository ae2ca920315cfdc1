"""What a product may know of a tenant user's access to its tool (issue 27, contract §3): the
snapshot a product caches, and POST /v1/authz/check about a subject."""

import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.services import SYSTEM
from catalog.models import Tool
from identity.live_sessions import end_sessions
from identity.models import Group, GroupPermission
from identity.selectors import subject_cache_keys, subject_snapshot
from identity.services import (
    add_member,
    create_group,
    create_user,
    grant_permissions,
    revoke_permission,
    set_user_status,
)
from tests.api.test_query_budgets import database_queries
from tests.identity.conftest import PASSWORD, session_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp(seeded):
    return Tool.objects.get(key="erp")


@pytest.fixture
def clerk(world):
    """A user of the tenant granted two ERP actions and one of the hub's own."""
    user = create_user(tenant=world.tenant, email="clerk@acme.com", password=PASSWORD).user
    group = create_group(tenant=world.tenant, name="clerks", actor=SYSTEM)
    grant_permissions(group=group, tool_action_keys=["erp.vehicles.read", "erp.sales.read", "users.read"], actor=SYSTEM)
    add_member(group=group, user=user, actor=SYSTEM)
    return user


def snapshot(world, erp, user, **kwargs):
    return subject_snapshot(tenant=world.tenant, tool=erp, user_id=user.pk, **kwargs)


def test_the_snapshot_is_the_users_permissions_on_the_tool_only(world, erp, clerk):
    found = snapshot(world, erp, clerk)
    assert found.permissions == ("erp.sales.read", "erp.vehicles.read")
    assert found.active is True and found.session_active is None and found.tool == "erp"
    admin = snapshot(world, erp, world.admin)
    assert "erp.vehicles.create" in admin.permissions and all(key.startswith("erp.") for key in admin.permissions)


def test_a_user_of_another_tenant_or_unknown_has_no_snapshot(world, erp):
    assert subject_snapshot(tenant=world.tenant, tool=erp, user_id=world.other_objects["user"].pk) is None
    assert subject_snapshot(tenant=world.tenant, tool=erp, user_id=uuid.uuid4()) is None


def test_a_warm_snapshot_reads_no_row(world, erp, clerk):
    session_token(clerk)
    family = clerk.refresh_tokens.get().family
    snapshot(world, erp, clerk, session_id=family)
    with CaptureQueriesContext(connection) as captured:
        again = snapshot(world, erp, clerk, session_id=family)
    assert again.session_active is True
    assert database_queries(captured) == 0


def test_the_version_changes_whenever_the_answer_does(world, erp, clerk):
    group = Group.objects.get(tenant=world.tenant, name="clerks")
    session_token(clerk)
    family = clerk.refresh_tokens.get().family
    seen = [snapshot(world, erp, clerk, session_id=family)]
    assert snapshot(world, erp, clerk, session_id=family).version == seen[0].version  # nothing changed

    revoke_permission(permission=GroupPermission.objects.get(group=group, tool_action__key="erp.sales.read"), actor=SYSTEM)
    seen.append(snapshot(world, erp, clerk, session_id=family))
    assert seen[-1].permissions == ("erp.vehicles.read",)

    end_sessions(world.tenant.pk, [family], confirm=True)
    seen.append(snapshot(world, erp, clerk, session_id=family))
    assert seen[-1].session_active is False

    set_user_status(user=clerk, status="suspended", reason="left", actor=SYSTEM)
    seen.append(snapshot(world, erp, clerk, session_id=family))
    assert seen[-1].active is False and seen[-1].permissions == ()

    set_user_status(user=clerk, status="active", reason="back", actor=SYSTEM)
    seen.append(snapshot(world, erp, clerk))
    assert seen[-1].active is True and seen[-1].session_active is None
    assert len({found.version for found in seen}) == len(seen)


def test_an_answer_is_kept_when_the_cache_lost_its_versions(world, erp, clerk):
    # Lost, or never written since the cache started (a fresh Redis): once rebuilt on every request.
    entry_key, *version_keys = subject_cache_keys(str(world.tenant.pk), str(erp.pk), str(clerk.pk))
    cache.delete_many(version_keys)
    first = snapshot(world, erp, clerk)
    assert cache.get(entry_key) == (tuple(cache.get_many(version_keys)[key] for key in version_keys), first)
    assert snapshot(world, erp, clerk) == first

    group = Group.objects.get(tenant=world.tenant, name="clerks")
    revoke_permission(permission=GroupPermission.objects.get(group=group, tool_action__key="erp.sales.read"), actor=SYSTEM)
    assert snapshot(world, erp, clerk).permissions == ("erp.vehicles.read",)


# --- As a product: GET /v1/authz/subjects/{userId}, POST /v1/authz/check --------------------------


@pytest.fixture
def product(erp):
    from identity.product_credentials import issue_product_credential

    return issue_product_credential(tool=erp, name="erp-backend", actor=SYSTEM).secret


def subject(api, world, product, user_id, query="", tenant=None):
    return api.get(f"/v1/authz/subjects/{user_id}{query}", token=product,
                   **{"X-Tenant-Id": str((tenant or world.tenant).pk)})


def check(api, world, product, body, tenant=None):
    return api.post("/v1/authz/check", body, token=product, **{"X-Tenant-Id": str((tenant or world.tenant).pk)})


def test_a_product_reads_a_users_access_to_its_tool(api, world, erp, clerk, product, settings):
    settings.PRODUCT_DECISION_MAX_AGE_SECONDS = 45
    response = subject(api, world, product, clerk.pk)
    assert response.status_code == 200, response.content
    body = response.json()["data"]
    assert body == {"subject": {"type": "user", "id": str(clerk.pk)}, "tenantId": str(world.tenant.pk), "tool": "erp",
                    "active": True, "sessionActive": None, "permissions": ["erp.sales.read", "erp.vehicles.read"],
                    "version": snapshot(world, erp, clerk).version, "maxAge": 45}


def test_a_product_asks_whether_a_session_is_alive(api, world, clerk, product):
    session_token(clerk)
    family = clerk.refresh_tokens.get().family
    alive = subject(api, world, product, clerk.pk, f"?sessionId={str(family).upper()}").json()["data"]
    assert alive["sessionActive"] is True
    end_sessions(world.tenant.pk, [family], confirm=True)
    ended = subject(api, world, product, clerk.pk, f"?sessionId={family}").json()["data"]
    assert ended["sessionActive"] is False and ended["version"] != alive["version"]
    assert subject(api, world, product, clerk.pk, f"?sessionId={uuid.uuid4()}").json()["data"]["sessionActive"] is False


@pytest.mark.parametrize("query", ["?sessionId=", "?sessionId=abc", f"?sessionId={uuid.uuid4().hex}",
                                   f"?sessionId=urn:uuid:{uuid.uuid4()}", f"?sessionId=%20{uuid.uuid4()}",
                                   "?session=1"])
def test_a_session_id_is_a_uuid_as_tokens_write_it(api, world, clerk, product, query):
    response = subject(api, world, product, clerk.pk, query)
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_product_learns_nothing_of_other_tenants_users(api, world, product):
    for user_id in (world.other_objects["user"].pk, uuid.uuid4()):
        response = subject(api, world, product, user_id)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
        response = check(api, world, product, {"subject": {"userId": str(user_id)}, "toolActions": ["erp.sales.read"]})
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_only_a_product_reads_subjects(api, world, clerk):
    from identity.services import create_api_key

    for token in (world.admin_token, create_api_key(tenant=world.tenant, name="k", profile="admin").key):
        response = api.get(f"/v1/authz/subjects/{clerk.pk}", token=token)
        assert response.status_code == 403 and response.json()["error"]["code"] == "CREDENTIAL_NOT_ALLOWED"


def test_a_product_in_a_tenant_without_its_tool_is_refused(api, world, clerk, seeded):
    from identity.product_credentials import issue_product_credential

    hotelbot = issue_product_credential(tool=Tool.objects.get(key="hotelbot"), name="bot", actor=SYSTEM).secret
    response = subject(api, world, hotelbot, clerk.pk)
    assert response.status_code == 403 and response.json()["error"]["code"] == "TOOL_NOT_ENTITLED"


def test_a_suspended_or_deleted_user_is_inactive_with_no_permission(api, world, clerk, product):
    from identity.services import delete_user

    set_user_status(user=clerk, status="suspended", reason="left", actor=SYSTEM)
    body = subject(api, world, product, clerk.pk).json()["data"]
    assert body["active"] is False and body["permissions"] == []
    delete_user(user=clerk, actor=SYSTEM)
    body = subject(api, world, product, clerk.pk).json()["data"]
    assert body["active"] is False and body["permissions"] == []


def test_a_product_checks_actions_for_a_subject(api, world, clerk, product):
    response = check(api, world, product, {"subject": {"userId": str(clerk.pk)},
                                          "toolActions": ["erp.sales.read", "erp.sales.create", "users.read"]})
    assert response.status_code == 200, response.content
    # users.read is granted to the clerk, but it is no action of the product's tool.
    assert response.json()["data"] == {"erp.sales.read": True, "erp.sales.create": False, "users.read": False}
    set_user_status(user=clerk, status="suspended", reason="left", actor=SYSTEM)
    again = check(api, world, product, {"subject": {"userId": str(clerk.pk)}, "toolActions": ["erp.sales.read"]})
    assert again.json()["data"] == {"erp.sales.read": False}


@pytest.mark.parametrize("body, field", [
    ({"toolActions": ["erp.sales.read"]}, "subject"),
    ({"subject": {}, "toolActions": ["erp.sales.read"]}, "subject"),
    ({"subject": {"userId": "nope"}, "toolActions": ["erp.sales.read"]}, "subject"),
    ({"subject": {"userId": str(uuid.uuid4()), "email": "x@y.z"}, "toolActions": ["erp.sales.read"]}, "subject"),
])
def test_a_product_must_name_its_subject(api, world, product, body, field):
    response = check(api, world, product, body)
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_a_subject_is_an_unknown_field_for_users_and_services(api, world, clerk):
    from identity.services import create_api_key

    body = {"subject": {"userId": str(clerk.pk)}, "toolActions": ["erp.sales.read"]}
    for token in (world.admin_token, create_api_key(tenant=world.tenant, name="k", profile="admin").key):
        response = api.post("/v1/authz/check", body, token=token)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["details"] == {"subject": ["Unknown field."]}


def test_a_kept_answer_follows_the_tenant_and_its_packages(world, erp, clerk):
    """The answer is kept whole, under the versions of what it is built from: a suspended tenant and
    a package taken away are each seen by the very next question."""
    from catalog.models import Package
    from tenancy.models import Tenant
    from tenancy.services import set_tenant_status, unassign_package

    def current():
        return subject_snapshot(tenant=Tenant.objects.get(pk=world.tenant.pk), tool=erp, user_id=clerk.pk)

    warm = current()
    assert warm.permissions == ("erp.sales.read", "erp.vehicles.read") and current() == warm
    set_tenant_status(tenant=world.tenant, status="suspended", reason="unpaid", actor=SYSTEM)
    assert (current().active, current().permissions) == (False, ())
    set_tenant_status(tenant=Tenant.objects.get(pk=world.tenant.pk), status="active", actor=SYSTEM)
    assert (current().active, current().permissions) == (True, warm.permissions)
    unassign_package(tenant=world.tenant, package=Package.objects.get(key="erp-basic"), actor=SYSTEM)
    assert (current().active, current().permissions) == (True, ())
