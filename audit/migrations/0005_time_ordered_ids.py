"""New rows get UUIDv7 ids (core.db.models.time_ordered_id). Only the Python default changes: no SQL runs,
and rows already there keep their ids."""

import uuid6
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_audit_chain_required'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditlog',
            name='id',
            field=models.UUIDField(default=uuid6.uuid7, editable=False, primary_key=True, serialize=False),
        ),
    ]
