"""Realistic data for the benchmark: 100 tenants, 10,000 users, 1,000,000 audit entries in one tenant.

Users and audit rows are written set-based (one INSERT … SELECT generate_series each), so loading
takes seconds, not the hours a per-row service call would. Users share one password hash (hashing
10,000 passwords with Argon2 would measure the loader, not the hub). The audit rows carry the
columns, sizes and indexes of real ones, but their hash chain is not a valid one: `audit_verify`
would flag the bench tenant, and no benchmark reads the chain.
"""

import io
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction

from audit.services import SYSTEM
from catalog.models import Package, Tool
from identity.models import Group, User
from identity.product_credentials import issue_product_credential
from identity.services import add_member, create_api_key
from tenancy.models import Tenant, TenantPackage

__all__ = ["BenchData", "load"]

TENANTS = 100
USERS_PER_TENANT = 100
BIG_AUDIT = 1_000_000
SMALL_AUDIT = 1_000
PASSWORD = "bench password 123"


@dataclass(frozen=True)
class BenchData:
    big: str  # slug of the tenant with a million audit entries
    small: str  # slug of a tenant with a thousand
    api_key: str  # an admin-profile key of the big tenant
    product: str  # a product credential of the ERP (the tenants hold erp-pro)

    @staticmethod
    def admin_email(slug: str) -> str:
        return f"admin@{slug}.test"


def _tenant(number: int) -> Tenant:
    slug = f"bench-{number:03d}"
    tenant = Tenant.objects.create(slug=slug, name=f"Bench {number}")
    TenantPackage.objects.create(tenant=tenant, package=Package.objects.get(key="erp-pro"))
    call_command("seed", "--tenant", slug, stdout=io.StringIO())
    return tenant


def _users(tenant: Tenant, password_hash: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO "user" (id, tenant_id, email, name, password, status, suspended_reason, is_staff,
                                is_superuser, auth_provider, created_at, updated_at)
            SELECT gen_random_uuid(), %s, 'user' || g || '@' || %s || '.test', 'User ' || g, %s, 'active', '',
                   false, false, 'internal', now() - g * interval '1 hour', now()
            FROM generate_series(1, %s) AS g
            """,
            [tenant.pk, tenant.slug, password_hash, USERS_PER_TENANT],
        )


def _audit(tenant: Tenant, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_log (id, tenant_id, actor_type, actor_id, action, entity_type, entity_id, metadata,
                                   ip, user_agent, sequence, prev_hash, hash, created_at, updated_at)
            SELECT gen_random_uuid(), %(tenant)s, 'user', %(tenant)s,
                   (ARRAY['users.update', 'groups.members.add', 'api_keys.create', 'auth.login'])[1 + g %% 4],
                   'user', g::text,
                   jsonb_build_object('requestId', md5(g::text), 'fields', jsonb_build_array('name')),
                   '10.0.0.1', 'bench/1.0', g + 1000000,
                   md5((g - 1)::text) || md5((g - 1)::text), md5(g::text) || md5(g::text),
                   now() - (%(count)s - g) * interval '2 seconds', now()
            FROM generate_series(1, %(count)s) AS g
            """,
            {"tenant": tenant.pk, "count": count},
        )


def load() -> BenchData:
    call_command("seed", stdout=io.StringIO())
    if Tenant.objects.filter(slug="bench-000").exists():
        raise SystemExit("the bench database already holds bench data: bench/run.py starts from an empty one")
    password_hash = make_password(PASSWORD)
    with transaction.atomic():
        tenants = [_tenant(number) for number in range(TENANTS)]
        for tenant in tenants:
            _users(tenant, password_hash)
        big, small = tenants[0], tenants[1]
        for tenant in (big, small):
            admin = User.objects.create(tenant=tenant, email=BenchData.admin_email(tenant.slug), name="Admin",
                                        password=password_hash)
            add_member(group=Group.objects.get(tenant=tenant, name="ADM_CLIENTE"), user=admin, actor=SYSTEM)
        key = create_api_key(tenant=big, name="bench", profile="admin").key
        product = issue_product_credential(tool=Tool.objects.get(key="erp"), name="bench", actor=SYSTEM).secret
    _audit(big, BIG_AUDIT)
    _audit(small, SMALL_AUDIT)
    vacuum()
    return BenchData(big=big.slug, small=small.slug, api_key=key, product=product)


def vacuum() -> None:
    """What autovacuum does within a minute of a burst of writes, done between figures so that they
    measure the hub and not the vacuum: after loading, after the first writes, before the webhook
    figure. A server with autovacuum off (the CI machine's) would otherwise never do it, and the
    webhook figure's fan-out would step over the write figure's tens of thousands of dead outbox
    rows in every batch."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def autovacuum() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]
