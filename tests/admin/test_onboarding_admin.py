"""Onboarding in the back office: the form of `POST /v1/tenants`, through the same service, with the
admin's invitation shown once; and the tenant's packages and status changed as audited staff actions."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group as StaffRole
from django.utils import timezone

from audit.models import AuditLog
from catalog.models import Package
from core.db.models import Status
from identity.models import Group, Invitation, User
from identity.sessions import accept_invitation
from identity.staff_roles import OPERATOR, SUPPORT
from tenancy.models import Tenant, TenantPackage
from tests.admin.conftest import as_submitted
from tests.factories import PackageFactory, TenantFactory, TenantPackageFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/tenancy/tenant/add/"


def onboarding_form(**changes) -> dict:
    erp = Package.objects.get(key="erp-basic")
    return {"slug": "acme", "name": "Acme Ltda", "package": str(erp.pk), "admin_email": "boss@acme.com",
            "admin_name": "Ana Boss", **changes}


def test_the_role_matrix_lets_operators_onboard_and_not_support(platform):
    granted = {role: set(StaffRole.objects.get(name=role).permissions.values_list("codename", flat=True))
               for role in (OPERATOR, SUPPORT)}
    assert "add_tenant" in granted[OPERATOR]
    assert "add_tenant" not in granted[SUPPORT]


def test_support_cannot_open_or_post_the_onboarding_form(support_client):
    assert support_client.get(ADD).status_code == 403
    assert support_client.post(ADD, onboarding_form()).status_code == 403
    assert not Tenant.objects.filter(slug="acme").exists()
    assert 'href="/admin/tenancy/tenant/add/"' not in support_client.get("/admin/tenancy/tenant/").content.decode()


def test_the_form_offers_active_packages_by_name(operator_client):
    PackageFactory(key="retired", name="Retired package", status=Status.SUSPENDED)
    page = operator_client.get(ADD)
    html = page.content.decode()
    assert page.status_code == 200
    assert f"{Package.objects.get(key='erp-basic').name} (erp-basic)" in html
    assert "Retired package" not in html
    assert 'name="_continue"' not in html and 'name="_addanother"' not in html


def test_onboarding_creates_everything_as_a_staff_action_and_shows_the_invitation_once(operator_client, operator):
    response = operator_client.post(ADD, onboarding_form())

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"].split(", ")
    tenant = Tenant.objects.get(slug="acme")
    admin = User.objects.get(tenant=tenant, email="boss@acme.com")
    assert (tenant.name, admin.name) == ("Acme Ltda", "Ana Boss")
    assert TenantPackage.objects.get(tenant=tenant).package.key == "erp-basic"
    assert Group.objects.get(tenant=tenant, name="ADM_CLIENTE").members.get() == admin
    html = response.content.decode()
    assert f'href="/admin/tenancy/tenant/{tenant.pk}/change/"' in html
    token = re.search(r"<table id=\"invitations\">.*?<code>([^<]+)</code>", html, re.S).group(1)
    assert Invitation.objects.filter(user=admin, accepted_at__isnull=True).count() == 1
    assert accept_invitation(token=token, password="a fine long password").pk == admin.pk

    entries = AuditLog.objects.filter(tenant=tenant)
    assert {"tenants.create", "tenants.packages.assign", "users.create", "groups.members.add"} <= set(
        entries.values_list("action", flat=True))
    staff_entries = entries.exclude(action__in=["groups.create", "groups.permissions.grant",
                                                "auth.invitation.accepted"])
    assert {(entry.actor_type, entry.actor_user_id) for entry in staff_entries} == {("staff", operator.pk)}
    # Shown once: the tenant's own page never repeats it.
    assert token not in operator_client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/").content.decode()


def test_a_refusal_of_the_service_is_shown_on_the_form_and_creates_nothing(operator_client):
    TenantFactory(slug="acme")
    users, audit = User.objects.count(), AuditLog.objects.count()

    response = operator_client.post(ADD, onboarding_form(name="Another Acme"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "A tenant with this slug already exists." in html
    assert 'value="Another Acme"' in html  # what staff typed is kept
    assert Tenant.objects.filter(slug="acme").count() == 1
    assert (User.objects.count(), AuditLog.objects.count()) == (users, audit)


def test_the_form_validates_before_calling_the_service(operator_client):
    response = operator_client.post(ADD, onboarding_form(slug="not a slug", admin_email="nobody"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"slug", "admin_email"}
    assert not Tenant.objects.filter(name="Acme Ltda").exists()


def test_the_tenant_page_names_its_packages(operator_client):
    tenant = TenantFactory(slug="acme")
    TenantPackageFactory(tenant=tenant, package=Package.objects.get(key="erp-basic"))
    html = operator_client.get(f"/admin/tenancy/tenant/{tenant.pk}/change/").content.decode()
    assert "erp-basic held by acme" in html
    assert not re.search(r"[0-9a-f-]{36}:[0-9a-f-]{36}", html)


def test_packages_and_status_changes_on_the_tenant_page_are_staff_actions(operator_client, operator):
    tenant = TenantFactory(slug="acme")
    url = f"/admin/tenancy/tenant/{tenant.pk}/change/"
    gestor = Package.objects.get(key="gestor-pro")
    expiry = (timezone.now() + timedelta(days=30)).replace(microsecond=0)

    operator_client.post(url, as_submitted(operator_client.get(url), **{
        "packages_held-TOTAL_FORMS": "1", "packages_held-0-package": str(gestor.pk),
        "packages_held-0-expires_at_0": expiry.strftime("%Y-%m-%d"),
        "packages_held-0-expires_at_1": expiry.strftime("%H:%M:%S"),
    }))
    later = expiry + timedelta(days=30)
    operator_client.post(url, as_submitted(operator_client.get(url), **{
        "packages_held-0-expires_at_0": later.strftime("%Y-%m-%d"),
        "packages_held-0-expires_at_1": later.strftime("%H:%M:%S"),
    }))
    assert TenantPackage.objects.get(tenant=tenant, package=gestor).expires_at == later
    operator_client.post(url, as_submitted(operator_client.get(url), **{"packages_held-0-DELETE": "on"}))
    changelist = "/admin/tenancy/tenant/"
    operator_client.post(changelist, {"action": "suspend", "_selected_action": [str(tenant.pk)], "reason": "Unpaid"})
    operator_client.post(changelist, {"action": "reactivate", "_selected_action": [str(tenant.pk)]})

    entries = list(AuditLog.objects.filter(tenant=tenant, actor_type="staff").order_by("sequence")
                   .values_list("action", "actor_user_id", "metadata"))
    assert [(action, user) for action, user, _ in entries] == [
        ("tenants.packages.assign", operator.pk), ("tenants.packages.assign", operator.pk),
        ("tenants.packages.unassign", operator.pk),
        ("tenants.status.update", operator.pk), ("tenants.status.update", operator.pk),
    ]
    assert [metadata.get("expiresAt") for _, _, metadata in entries[:2]] == [expiry.isoformat(), later.isoformat()]
    assert [metadata.get("to") for _, _, metadata in entries[3:]] == ["suspended", "active"]
