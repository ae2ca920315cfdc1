"""Two seeded tenants, an admin and a powerless user in the first, objects in both."""

from dataclasses import dataclass

import pytest
from django.core.management import call_command

from catalog.models import Package
from identity.models import Group
from identity.services import add_member, create_api_key, create_group, create_user, grant_permissions
from identity.sessions import login
from tenancy.models import TenantPackage
from tests.factories import TenantFactory
from tests.identity.conftest import PASSWORD

__all__ = ["PASSWORD", "World"]


@dataclass
class World:
    tenant: object
    other: object
    admin: object
    admin_token: str
    nobody_token: str
    other_objects: dict

    def token_with(self, *actions, email="scoped@acme.com"):
        """A user token whose only group grants exactly `actions`."""
        from audit.services import SYSTEM

        user = create_user(tenant=self.tenant, email=email, password=PASSWORD).user
        group = create_group(tenant=self.tenant, name=f"only-{email}", actor=SYSTEM)
        if actions:
            grant_permissions(group=group, tool_action_keys=actions, actor=SYSTEM)
        add_member(group=group, user=user, actor=SYSTEM)
        return login(tenant_slug=self.tenant.slug, email=email, password=PASSWORD, ip="127.0.0.1").access_token


def _seed_tenant(slug):
    tenant = TenantFactory(slug=slug, name=slug.title())
    TenantPackage.objects.create(tenant=tenant, package=Package.objects.get(key="erp-basic"))
    call_command("seed", "--tenant", slug, verbosity=0, stdout=open("/dev/null", "w"))
    return tenant


@pytest.fixture
def world(seeded):
    from audit.services import SYSTEM

    tenant, other = _seed_tenant("acme"), _seed_tenant("globex")
    admin = create_user(tenant=tenant, email="admin@acme.com", name="Admin", password=PASSWORD).user
    add_member(group=Group.objects.get(tenant=tenant, name="ADM_CLIENTE"), user=admin, actor=SYSTEM)
    create_user(tenant=tenant, email="nobody@acme.com", password=PASSWORD)
    create_api_key(tenant=tenant, name="acme-ci", profile="read-only")
    other_user = create_user(tenant=other, email="someone@globex.com", password=PASSWORD).user
    other_group = Group.objects.get(tenant=other, name="OPERATOR")
    from audit.models import AuditLog
    from exports.services import request_export
    from integrations.services import create_credential
    from outbox.services import create_subscription

    other_objects = {
        "export": request_export(tenant=other, actor=SYSTEM),
        "credential": create_credential(tenant=other, provider="stripe", name="other", data={"apiKey": "sk"},
                                        actor=SYSTEM),
        "webhook": create_subscription(tenant=other, url="https://hooks.example.com/other",
                                       event_types=["user.created"], actor=SYSTEM).subscription,
        "audit_entry": AuditLog.objects.filter(tenant=other).first(),
        "user": other_user,
        "group": other_group,
        "api_key": create_api_key(tenant=other, name="globex-ci", profile="read-only").api_key,
        "permission": other_group.grants.first(),
    }

    def token(email):
        return login(tenant_slug="acme", email=email, password=PASSWORD, ip="127.0.0.1").access_token

    return World(tenant, other, admin, token("admin@acme.com"), token("nobody@acme.com"), other_objects)
