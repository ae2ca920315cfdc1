"""Idempotency keys per principal, with their stored answers encrypted (expand half).

The old plaintext `response_body` column leaves the model now and stays in the table, NULL, until
0008 drops it in the next release (a running old release may still write it during the deploy).
The new uniqueness is a unique index built concurrently, which PostgreSQL enforces as a constraint
does (Django's state records it as the model's UniqueConstraint); the old one is dropped, or another
principal's claim of the same key would be refused by it.
"""

from django.db import migrations, models

NEW_UNIQUE = "uq_idempotency_key_tenant_id_principal_key_handler"
OLD_UNIQUE = "uq_idempotency_key_tenant_id_key_handler"
BATCH = 500


def encrypt_stored_answers(apps, schema_editor):
    import json

    from audit.models import idempotency_associated_data
    from core.security.crypto import encrypt

    connection = schema_editor.connection
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, response_body::text FROM idempotency_key "
                           "WHERE response_body IS NOT NULL LIMIT %s", [BATCH])
            rows = cursor.fetchall()
            for pk, body in rows:
                blob, version = encrypt(json.dumps(json.loads(body)).encode(),
                                        associated_data=idempotency_associated_data(pk))
                cursor.execute("UPDATE idempotency_key SET response_encrypted = %s, key_version = %s, "
                               "response_body = NULL WHERE id = %s", [blob, version, pk])
        if len(rows) < BATCH:
            return


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("audit", "0006_audit_append_function"),
        ("tenancy", "0002_tenant_package_reverse_name"),
    ]

    operations = [
        migrations.AddField("idempotencykey", "claim_token", models.UUIDField(blank=True, null=True)),
        migrations.AddField("idempotencykey", "lease_expires_at", models.DateTimeField(blank=True, null=True)),
        migrations.AddField("idempotencykey", "key_version", models.PositiveSmallIntegerField(blank=True, null=True)),
        migrations.AddField("idempotencykey", "response_encrypted", models.BinaryField(blank=True, null=True)),
        migrations.AddField("idempotencykey", "principal",
                            models.CharField(blank=True, default="", db_default="", max_length=64)),
        migrations.RunPython(encrypt_stored_answers, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {NEW_UNIQUE} "
                    "ON idempotency_key (tenant_id, principal, key, handler)",
                    reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {NEW_UNIQUE}",
                ),
                migrations.RunSQL(f"ALTER TABLE idempotency_key DROP CONSTRAINT {OLD_UNIQUE}",
                                  reverse_sql=migrations.RunSQL.noop),
            ],
            state_operations=[
                migrations.RemoveConstraint("idempotencykey", OLD_UNIQUE),
                migrations.AddConstraint("idempotencykey", models.UniqueConstraint(
                    fields=("tenant_id", "principal", "key", "handler"), name=NEW_UNIQUE)),
                migrations.RemoveField("idempotencykey", "response_body"),
            ],
        ),
    ]
