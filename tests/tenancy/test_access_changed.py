"""`access.changed` (issue 27): every change that may change a decision writes one, in its own
transaction, naming the user, session or API key it concerns and the products concerned."""

from datetime import timedelta

import jwt
import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.models import AuditLog
from audit.services import SYSTEM, Actor
from catalog.models import Package
from core.cache.versions import tenant_version_key
from identity.models import Group
from identity.onboarding import assign_package
from identity.services import (
    add_member,
    create_api_key,
    create_group,
    create_user,
    delete_user,
    grant_permissions,
    remove_member,
    revoke_permission,
    set_api_key_status,
    set_group_status,
    set_user_status,
)
from operations.tasks import announce_expired_packages
from outbox.models import OutboxEvent
from tenancy.models import TenantPackage
from tenancy.services import access_changed, announce_package_expiries, set_tenant_status, unassign_package
from tests.factories import TenantFactory
from tests.identity.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def changes(tenant) -> list[dict]:
    return [event.payload["data"] for event in
            OutboxEvent.objects.filter(tenant=tenant, type="access.changed").order_by("created_at", "id")]


def expected(tenant, reason, *, user=None, session=None, api_key=None, tools=("erp",)) -> dict:
    return {"tenantId": str(tenant.pk), "reason": reason, "tools": list(tools),
            "userId": str(user.pk) if user else None, "sessionId": str(session) if session else None,
            "apiKeyId": str(api_key.pk) if api_key else None}


@pytest.fixture
def tenant(seeded):
    tenant = TenantFactory(slug="dealer")
    assign_package(tenant=tenant, package_key="erp-basic", actor=SYSTEM)
    OutboxEvent.objects.all().delete()
    return tenant


@pytest.fixture
def user(tenant):
    return create_user(tenant=tenant, email="ana@dealer.com", password=PASSWORD).user


@pytest.fixture
def group(tenant):
    return create_group(tenant=tenant, name="SELLERS", actor=SYSTEM)


def test_a_grant_and_its_revocation_concern_the_whole_tenant(tenant, group):
    [permission] = grant_permissions(group=group, tool_action_keys=["erp.vehicles.read"], actor=SYSTEM)
    revoke_permission(permission=permission, actor=SYSTEM)
    set_group_status(group=group, status="suspended", reason="audit", actor=SYSTEM)
    assert changes(tenant) == [expected(tenant, "grant")] * 3


def test_a_membership_concerns_its_user(tenant, group, user):
    add_member(group=group, user=user, actor=SYSTEM)
    add_member(group=group, user=user, actor=SYSTEM)  # already a member: nothing changed, nothing said
    remove_member(group=group, user=user, actor=SYSTEM)
    assert changes(tenant) == [expected(tenant, "membership", user=user)] * 2


def test_suspending_a_user_ends_their_sessions_too(api, tenant, user):
    session = jwt.decode(api.login(tenant, user.email).json()["data"]["accessToken"],
                         options={"verify_signature": False})["sid"]
    set_user_status(user=user, status="suspended", reason="left", actor=SYSTEM)
    assert changes(tenant) == [expected(tenant, "session", user=user, session=session),
                               expected(tenant, "user_status", user=user)]


def test_deleting_a_user_revokes_their_keys(tenant, user):
    key = create_api_key(tenant=tenant, name="sync", profile="read-only", actor=Actor.for_user(user)).api_key
    delete_user(user=user, actor=SYSTEM)
    assert changes(tenant) == [expected(tenant, "api_key", api_key=key), expected(tenant, "user_status", user=user)]


def test_a_tenant_status_change_concerns_every_user(tenant):
    set_tenant_status(tenant=tenant, status="suspended", reason="unpaid", actor=SYSTEM)
    set_tenant_status(tenant=tenant, status="suspended", reason="unpaid", actor=SYSTEM)
    set_tenant_status(tenant=tenant, status="active", actor=SYSTEM)
    assert changes(tenant) == [expected(tenant, "tenant_status")] * 2


def test_a_package_names_the_tools_before_and_after(tenant):
    assign_package(tenant=tenant, package_key="gestor-pro", actor=SYSTEM)
    unassign_package(tenant=tenant, package=Package.objects.get(key="erp-basic"), actor=SYSTEM)
    # Base groups topped up with the new package's actions: a grant too.
    assert changes(tenant) == [expected(tenant, "package", tools=["erp", "gestor"]),
                               expected(tenant, "grant", tools=["erp", "gestor"]),
                               expected(tenant, "package", tools=["erp", "gestor"])]
    assert changes(tenant)[-1]["tools"] == ["erp", "gestor"]  # erp lost, gestor kept: both concerned


def test_an_expired_package_is_announced_once_and_drops_cached_permissions(tenant):
    other = TenantFactory(slug="other")
    assign_package(tenant=other, package_key="erp-basic", expires_at=timezone.now() + timedelta(days=1), actor=SYSTEM)
    told_other = len(changes(other))
    TenantPackage.objects.filter(tenant=tenant).update(expires_at=timezone.now() - timedelta(seconds=1))
    cache.set(tenant_version_key(tenant.pk), 1)
    assert announce_expired_packages() == 1
    assert cache.get(tenant_version_key(tenant.pk)) != 1
    assert changes(tenant) == [expected(tenant, "package")]
    assert AuditLog.objects.filter(tenant=tenant, action="tenants.packages.expire", entity_id="erp-basic").count() == 1
    assert announce_package_expiries() == 0 and len(changes(tenant)) == 1
    # Assigned again and expired again: told again.
    assign_package(tenant=tenant, package_key="erp-basic", expires_at=timezone.now() + timedelta(days=1), actor=SYSTEM)
    TenantPackage.objects.filter(tenant=tenant).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert announce_package_expiries() == 1 and changes(tenant)[-1] == expected(tenant, "package")
    assert len(changes(other)) == told_other  # not expired yet


def test_logging_out_names_the_session(api, tenant, user):
    access = api.login(tenant, user.email).json()["data"]["accessToken"]
    session = jwt.decode(access, options={"verify_signature": False})["sid"]
    assert api.post("/v1/auth/logout", {}, token=access).status_code == 204
    assert changes(tenant) == [expected(tenant, "session", user=user, session=session)]


def test_an_api_key_status_change_names_the_key(tenant):
    key = create_api_key(tenant=tenant, name="sync", profile="read-only").api_key
    set_api_key_status(api_key=key, status="revoked")
    assert changes(tenant) == [expected(tenant, "api_key", api_key=key)]


def test_the_event_is_written_in_the_changes_own_transaction(tenant, group, user):
    with pytest.raises(RuntimeError), transaction.atomic():
        add_member(group=group, user=user, actor=SYSTEM)
        assert changes(tenant) == [expected(tenant, "membership", user=user)]
        raise RuntimeError("rolled back")
    assert changes(tenant) == [] and not Group.objects.get(pk=group.pk).memberships.exists()


def test_a_tenant_without_products_names_none(seeded, api):
    tenant = TenantFactory(slug="bare")
    user = create_user(tenant=tenant, email="bo@bare.com", password=PASSWORD).user
    set_user_status(user=user, status="suspended", reason="left", actor=SYSTEM)
    assert changes(tenant) == [expected(tenant, "user_status", user=user, tools=[])]


def test_identifiers_pass_the_scrubber_only_as_uuids(tenant):
    with transaction.atomic(), pytest.raises(ValueError, match="sessionId is not a uuid"):
        access_changed(tenant=tenant, reason="session", session_id="a-session-cookie")
