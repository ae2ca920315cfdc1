"""The chain columns become required once 0003 has filled them (a separate transaction, since
PostgreSQL refuses to alter a table with the backfill's trigger events still pending)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_audit_chain")]

    operations = [
        migrations.AlterField("auditlog", "sequence", models.BigIntegerField()),
        migrations.AlterField("auditlog", "prev_hash", models.CharField(max_length=64)),
        migrations.AlterField("auditlog", "hash", models.CharField(max_length=64)),
        migrations.AddConstraint(
            model_name="auditlog",
            constraint=models.UniqueConstraint(fields=("tenant_id", "sequence"), name="uq_audit_log_tenant_id_sequence"),
        ),
    ]
