"""Who is in a group (GET /v1/groups/{id}/users) and which groups a user is in (GET /v1/users/{id})."""

import pytest

from audit.services import SYSTEM
from identity.models import Group
from identity.services import add_member, create_group, delete_user, remove_member
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_groups_members_are_listed_page_by_page_newest_first(api, world):
    group = create_group(tenant=world.tenant, name="support", actor=SYSTEM)
    members = [UserFactory(tenant=world.tenant) for _ in range(5)]
    for user in members:
        add_member(group=group, user=user, actor=SYSTEM)
    outsider = UserFactory(tenant=world.tenant)
    delete_user(user=members[0], actor=SYSTEM)  # anonymised: no longer a resource
    remove_member(group=group, user=members[1], actor=SYSTEM)
    seen, cursor = [], None
    while True:
        response = api.get(f"/v1/groups/{group.pk}/users?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                           token=world.admin_token)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["data"]
        cursor = body["meta"]["nextCursor"]
        if not body["meta"]["hasMore"]:
            break
    assert [row["id"] for row in seen] == [str(user.pk) for user in reversed(members[2:])]
    assert set(seen[0]) == {"id", "email", "name", "status", "suspendedReason", "authProvider", "createdAt",
                            "updatedAt"}
    assert str(outsider.pk) not in {row["id"] for row in seen}


def test_another_tenants_group_has_no_members_to_show(api, world):
    response = api.get(f"/v1/groups/{world.other_objects['group'].pk}/users", token=world.admin_token)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_a_users_detail_lists_its_live_groups_by_name(api, world):
    user = UserFactory(tenant=world.tenant)
    for name in ("zeta", "Alpha", "mid"):
        add_member(group=create_group(tenant=world.tenant, name=name, actor=SYSTEM), user=user, actor=SYSTEM)
    add_member(group=Group.objects.get(tenant=world.tenant, name="VIEWER"), user=user, actor=SYSTEM)
    Group.objects.filter(tenant=world.tenant, name="mid").update(deleted_at="2026-01-01T00:00:00Z")
    response = api.get(f"/v1/users/{user.pk}", token=world.admin_token)
    assert response.status_code == 200
    groups = response.json()["data"]["groups"]
    assert [group["name"] for group in groups] == ["Alpha", "VIEWER", "zeta"]
    assert groups[0] == {"id": str(Group.objects.get(tenant=world.tenant, name="Alpha").pk), "name": "Alpha"}
    assert api.get(f"/v1/users/{UserFactory(tenant=world.tenant).pk}", token=world.admin_token).json()["data"][
        "groups"] == []
