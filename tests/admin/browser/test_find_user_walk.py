"""Staff find a person across tenants by e-mail in Chromium: their accounts, one account's tenant and
groups, then what they did, in the audit log."""

import pytest

from audit.services import Actor
from identity.onboarding import onboard_tenant
from identity.services import add_member, create_group, create_user
from identity.sessions import login
from tests.admin.browser.conftest import CLIENT_PASSWORD, search, shot, sign_in
from tests.admin.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

CONSULTANT = "maria.silva@consultoria.example.com"


def a_consultant_in_two_tenants(staff):
    """Maria works for two clients: an account in each, groups in one, a login and a change in both."""
    actor = Actor.for_user(staff)
    accounts = {}
    for slug, name in [("acme", "Acme Fleet"), ("globex", "Globex Motors")]:
        tenant = onboard_tenant(slug=slug, name=name, package_key="erp-basic", admin_email=f"boss@{slug}.example.com",
                                actor=actor).tenant
        maria = create_user(tenant=tenant, email=CONSULTANT, name="Maria Silva", password=CLIENT_PASSWORD,
                            actor=actor).user
        login(tenant_slug=slug, email=CONSULTANT, password=CLIENT_PASSWORD, ip="127.0.0.1")
        accounts[slug] = maria
    as_maria = Actor(type="user", user=accounts["acme"], id=accounts["acme"].pk)
    add_member(group=create_group(tenant=accounts["acme"].tenant, name="Sales floor", actor=as_maria),
               user=accounts["acme"], actor=as_maria)
    return accounts


def test_staff_find_a_person_across_tenants_then_what_they_did(page, operator):
    a_consultant_in_two_tenants(operator)
    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)
    page.wait_for_selector("#dashboard")

    search(page, "/admin/identity/user/", "maria.silva@consultoria")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert {rows.nth(row).locator("td.field-tenant").inner_text() for row in range(2)} == {"acme", "globex"}
    shot(page, "find-user-1-accounts")

    with page.expect_navigation():
        rows.filter(has_text="acme").locator("th a").click()
    assert page.locator(".field-tenant .readonly").inner_text() == "acme"
    memberships = page.locator("#content").inner_text()
    assert "Sales floor" in memberships and "ADM_CLIENTE" not in memberships
    shot(page, "find-user-2-account")

    search(page, "/admin/audit/auditlog/", CONSULTANT)
    entries = page.locator("#result_list tbody tr")
    seen = [(entries.nth(row).locator("td.field-tenant").inner_text(), entries.nth(row).locator("td.field-dotted_action").inner_text())
            for row in range(entries.count())]
    assert sorted(seen) == sorted([
        ("acme", "auth.login"), ("globex", "auth.login"), ("acme", "groups.create"), ("acme", "groups.members.add"),
    ]), seen
    assert all(CONSULTANT in entries.nth(row).locator("td.field-actor").inner_text() for row in range(entries.count()))
    shot(page, "find-user-3-audit")
