"""What a product may know of a tenant user's access to its tool (issue 27, contract §3): the
snapshot a product caches, and POST /v1/authz/check about a subject."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.services import SYSTEM
from catalog.models import Tool
from identity.live_sessions import end_sessions
from identity.models import Group, GroupPermission
from identity.selectors import subject_snapshot
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
