"""A live hub (gunicorn on the test's own database) and the callers the contract is checked as."""

import pytest
from django.core.cache import cache

from audit.services import SYSTEM
from catalog.models import Package
from identity.models import Group
from identity.onboarding import create_platform_staff, seed_tenant_groups
from identity.services import add_member, create_user
from tenancy.services import assign_package, create_tenant
from tests.identity.conftest import PASSWORD
from tests.runtime import web_server

UNLIMITED = {f"RATE_LIMIT_{kind}_PER_MINUTE": "1000000" for kind in ("AUTH", "READ", "WRITE")}


def platform_admin() -> tuple[str, str]:
    create_platform_staff(email="staff@aza8.local", password=PASSWORD, name="Staff")
    return "aza8", "staff@aza8.local"


def tenant_admin() -> tuple[str, str]:
    tenant = create_tenant(slug="acme", name="Acme", actor=SYSTEM)
    assign_package(tenant=tenant, package=Package.objects.get(key="erp-basic"), actor=SYSTEM)
    seed_tenant_groups(tenant=tenant)
    admin = create_user(tenant=tenant, email="admin@acme.com", name="Acme Admin", password=PASSWORD).user
    add_member(group=Group.objects.get(tenant=tenant, name="ADM_CLIENTE"), user=admin, actor=SYSTEM)
    return "acme", "admin@acme.com"


def login(hub, tenant: str, email: str) -> str:
    status, body, _ = hub.call("POST", "/v1/auth/login", {"tenant": tenant, "email": email, "password": PASSWORD})
    assert status == 200, body
    return body["data"]["accessToken"]


@pytest.fixture
def live_hub(seeded, transactional_db):
    """gunicorn serving the hub on this test's database, with no rate limit in the fuzzer's way.

    Its login counters and cached reads are committed by another process, where no rollback and no
    flush reaches them (the database cache's table is no model): emptied here, or the next test's
    logins would be counted against this one's (spec: five per address and account in 15 min)."""
    with web_server(workers=2, **UNLIMITED) as hub:
        yield hub
    cache.clear()
