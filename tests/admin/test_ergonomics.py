"""The back office's ergonomics: times that name their zone, its stylesheet, the audit searched by a person,
one "Groups"."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import formats

from audit.models import AuditLog
from audit.services import SYSTEM, Actor, record
from identity.models import StaffRole
from identity.staff_roles import OPERATOR, SUPPORT
from tests.admin.test_changelist_queries import queries_for
from tests.factories import GroupFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 12, 6, 14, 3, tzinfo=UTC)


# --- Times -----------------------------------------------------------------------------------------


def test_a_time_names_its_zone():
    assert formats.date_format(NOON, "DATETIME_FORMAT") == "2026-12-06 14:03 UTC"
    assert formats.date_format(NOON.date()) == "2026-12-06"
    with override_settings(TIME_ZONE="America/Sao_Paulo"):
        from django.contrib.admin.utils import display_for_value

        assert display_for_value(NOON, "-") == "2026-12-06 11:03 -03"


def test_lists_and_detail_pages_show_times_with_their_zone(operator_client):
    user = UserFactory(tenant=TenantFactory(slug="acme"), email="boss@acme.com")
    type(user).objects.filter(pk=user.pk).update(created_at=NOON)
    assert "2026-12-06 14:03 UTC" in operator_client.get("/admin/identity/user/?q=boss").content.decode()
    assert "2026-12-06 14:03 UTC" in operator_client.get(f"/admin/identity/user/{user.pk}/change/").content.decode()


def test_a_read_only_page_shows_when_its_row_was_written(operator_client):
    group = GroupFactory(tenant=TenantFactory(slug="acme"))
    type(group).objects.filter(pk=group.pk).update(created_at=NOON)
    page = operator_client.get(f"/admin/identity/group/{group.pk}/change/").content.decode()
    assert "Created at:" in page and "2026-12-06 14:03 UTC" in page and "Updated at:" in page


# --- The hub's stylesheet ------------------------------------------------------------------------


def test_every_admin_page_loads_the_hub_stylesheet_and_it_is_served(operator_client):
    page = operator_client.get("/admin/identity/user/").content.decode()
    assert '<link rel="stylesheet" href="/static/hub/admin.css">' in page
    stylesheet = operator_client.get("/static/hub/admin.css")
    assert stylesheet.status_code == 200 and b"#result_list" in b"".join(stylesheet.streaming_content)


# --- Audit search by a person ----------------------------------------------------------------------


def entries_by(user, count, action="users.update"):
    with transaction.atomic():
        for number in range(count):
            record(tenant=user.tenant, action=action, entity_type="user", entity_id=f"{user.pk}-{number}",
                   actor=Actor.for_user(user) if user.is_staff else Actor(type="user", user=user, id=user.pk))


def listed(client, search) -> set:
    page = client.get("/admin/audit/auditlog/", {"q": search})
    assert page.status_code == 200
    return {entry.pk for entry in page.context["cl"].result_list}


def test_the_audit_is_searched_by_a_persons_email_across_tenants(operator_client):
    boss = UserFactory(tenant=TenantFactory(slug="acme"), email="maria.silva@acme.com", name="Maria Silva")
    namesake = UserFactory(tenant=TenantFactory(slug="globex"), email="maria.silva@globex.com")
    other = UserFactory(tenant=boss.tenant, email="joao@acme.com")
    entries_by(boss, 2), entries_by(namesake, 1), entries_by(other, 1)
    by = {person: set(AuditLog.objects.filter(actor_user=person).values_list("pk", flat=True))
          for person in (boss, namesake, other)}

    assert listed(operator_client, "maria.silva@acme.com") == by[boss]
    assert listed(operator_client, "MARIA.SILVA@") == by[boss] | by[namesake]
    assert listed(operator_client, "@acme.com") == by[boss] | by[other]
    assert listed(operator_client, "Maria Silva") == by[boss]
    assert listed(operator_client, "nobody@acme.com") == set()


def test_an_entity_id_still_finds_its_entries_exactly(operator_client):
    boss = UserFactory(tenant=TenantFactory(slug="acme"), email="boss@acme.com")
    entries_by(boss, 2)
    entry = AuditLog.objects.get(entity_id=f"{boss.pk}-1")
    assert listed(operator_client, f"{boss.pk}-1") == {entry.pk}
    assert listed(operator_client, str(boss.pk)[:8]) == set()  # a part of an id is no match


def test_the_audit_shows_who_acted_and_keeps_only_their_id(operator_client, operator):
    tenant = TenantFactory(slug="acme")
    with transaction.atomic():
        record(tenant=tenant, action="tenants.status.update", entity_type="tenant", entity_id=tenant.pk,
               actor=Actor.for_user(operator))
        record(tenant=tenant, action="users.update", entity_type="user", entity_id="x", actor=SYSTEM)
    page = operator_client.get("/admin/audit/auditlog/").content.decode()
    assert f"{operator.email}<br><small>Aza8 staff</small>" in page
    assert f'title="{tenant.pk}"' in page  # the entity's id, cut short on screen, whole on hover
    stored = AuditLog.objects.filter(actor_user=operator).values()[0]
    assert operator.email not in str(stored)


def test_a_search_by_email_costs_the_same_queries_for_few_or_many_entries(operator_client):
    boss = UserFactory(tenant=TenantFactory(slug="acme"), email="boss@acme.com")
    entries_by(boss, 2)
    queries_for(operator_client, "/admin/audit/auditlog/?q=boss%40acme")  # warm: content types, session
    few = queries_for(operator_client, "/admin/audit/auditlog/?q=boss%40acme")
    entries_by(boss, 30)
    entries_by(UserFactory(tenant=TenantFactory(), email="boss@acme.com.br"), 30)
    many = queries_for(operator_client, "/admin/audit/auditlog/?q=boss%40acme")
    assert len(many) == len(few) <= 10, "\n".join(many)


# --- One "Groups" ----------------------------------------------------------------------------------


def test_the_index_lists_staff_roles_and_the_tenants_groups_once_each(operator_client):
    index = operator_client.get("/admin/").content.decode()
    assert index.count(">Staff roles<") == 1 and index.count(">Groups<") == 1
    assert "/admin/auth/group/" not in index and operator_client.get("/admin/auth/group/").status_code == 404


def test_both_staff_roles_may_read_the_staff_roles_and_nobody_changes_them_here(support_client, operator_client):
    for role in (SUPPORT, OPERATOR):
        held = set(StaffRole.objects.get(name=role).permissions.filter(codename__endswith="_staffrole")
                   .values_list("codename", flat=True))
        assert held == {"view_staffrole"}, role
    support = StaffRole.objects.get(name=SUPPORT)
    for client in (support_client, operator_client):
        assert client.get("/admin/identity/staffrole/").status_code == 200
        page = client.get(f"/admin/identity/staffrole/{support.pk}/change/")
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.get("/admin/identity/staffrole/add/").status_code == 403


def test_a_staff_role_shows_its_members_and_what_it_may_do(support_client, support):
    GroupFactory(tenant=TenantFactory(slug="acme"), name="Platform support (read-only)")  # a tenant's namesake
    changelist = support_client.get("/admin/identity/staffrole/")
    assert [str(role) for role in changelist.context["cl"].result_list] == [OPERATOR, SUPPORT]
    page = support_client.get(f"/admin/identity/staffrole/{StaffRole.objects.get(name=SUPPORT).pk}/change/")
    body = page.content.decode()
    assert f'/admin/identity/user/{support.pk}/change/">{support.email}</a>' in body
    assert "<div>tenancy · tenant: view</div>" in body
