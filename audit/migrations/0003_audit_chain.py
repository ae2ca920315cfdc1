"""Adds the per-tenant hash chain to audit_log and chains the entries already there."""

from django.db import migrations, models



def chain_existing_entries(apps, schema_editor):
    from audit.chain import GENESIS, entry_hash

    AuditLog = apps.get_model("audit", "AuditLog")
    tenant_ids = AuditLog.objects.values_list("tenant_id", flat=True).distinct()
    for tenant_id in tenant_ids:
        previous_hash = GENESIS
        entries = AuditLog.objects.filter(tenant_id=tenant_id).order_by("created_at", "id")
        for sequence, entry in enumerate(entries.iterator(chunk_size=2000), start=1):
            entry.sequence, entry.prev_hash = sequence, previous_hash
            entry.hash = entry_hash(entry)
            entry.save(update_fields=["sequence", "prev_hash", "hash"])
            previous_hash = entry.hash


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [
        migrations.AddField("auditlog", "sequence", models.BigIntegerField(null=True)),
        migrations.AddField("auditlog", "prev_hash", models.CharField(max_length=64, null=True)),
        migrations.AddField("auditlog", "hash", models.CharField(max_length=64, null=True)),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
    ]
