"""A partial index for the workers' claim of due deliveries, built without locking the table."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("outbox", "0002_webhook_secret_encryption")]

    operations = [
        AddIndexConcurrently(
            "webhookdelivery",
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "failed"]),
                name="idx_webhook_delivery_next_attempt_at_due",
            ),
        ),
    ]
