"""The data model's rules, read back from PostgreSQL's catalog rather than from the models."""

import pytest
from django.apps import apps
from django.db import connection

from tenancy.models import TenantScopedModel

DOMAIN_APPS = ["catalog", "tenancy", "identity", "audit", "outbox", "branding", "usage", "integrations"]

# Credential and domain lookups happen before any tenant is known, and the delivery workers claim
# due rows across every tenant, so these indexes cannot start with tenant_id (docs/decisions.md,
# "Indexes that do not start with tenant_id").
GLOBAL_LOOKUP_INDEXES = {"uq_api_key_prefix", "uq_refresh_token_jti", "uq_invitation_token_hash", "uq_tenant_branding_domain",
                         "idx_webhook_delivery_next_attempt_at_due"}


def domain_models():
    """The models with a table of their own (a proxy, such as the staff roles, has another's)."""
    for label in DOMAIN_APPS:
        yield from (model for model in apps.get_app_config(label).get_models() if not model._meta.proxy)


def domain_tables():
    tables = set()
    for model in domain_models():
        tables.add(model._meta.db_table)
        for field in model._meta.local_many_to_many:
            if field.remote_field.through._meta.auto_created:
                tables.add(field.remote_field.through._meta.db_table)
    return sorted(tables)


def fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db
def test_every_domain_model_has_uuid_key_and_timestamps():
    for model in domain_models():
        assert model._meta.pk.get_internal_type() == "UUIDField", model
        field_names = {field.name for field in model._meta.get_fields()}
        assert {"created_at", "updated_at"} <= field_names, model


@pytest.mark.django_db
def test_constraint_names_follow_the_convention():
    prefixes = {"f": "fk_", "u": "uq_", "c": "ck_"}
    rows = fetch(
        """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s)
        """,
        [[f'"{t}"' if t in ("user", "group") else t for t in domain_tables()]],
    )
    assert rows
    for table, name, kind, definition in rows:
        table = table.strip('"')
        if kind == "p":
            assert name == f"{table}_pkey"
        elif kind == "c" and name.endswith("_check") and ">= 0" in definition:
            continue  # PostgreSQL's own name for a positive-integer column check
        else:
            assert name.startswith(prefixes[kind] + table + "_"), (table, name)


@pytest.mark.django_db
def test_index_names_follow_the_convention():
    for table, name in fetch(
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)",
        [domain_tables()],
    ):
        assert name == f"{table}_pkey" or name.startswith((f"idx_{table}_", f"uq_{table}_")), (table, name)


@pytest.mark.django_db
def test_every_index_on_a_tenant_table_starts_with_tenant_id():
    tenant_tables = [
        model._meta.db_table for model in domain_models() if issubclass(model, TenantScopedModel)
    ]
    assert "user" in tenant_tables and "audit_log" in tenant_tables
    rows = fetch(
        """
        SELECT t.relname, i.relname, a.attname
        FROM pg_index x
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
        WHERE t.relname = ANY(%s) AND NOT x.indisprimary
        """,
        [tenant_tables],
    )
    offenders = [(table, index) for table, index, first in rows if first != "tenant_id" and index not in GLOBAL_LOOKUP_INDEXES]
    assert offenders == []
    # Each tenant table has at least one index to serve its tenant filter.
    indexed = {table for table, _index, first in rows if first == "tenant_id"}
    assert set(tenant_tables) <= indexed
