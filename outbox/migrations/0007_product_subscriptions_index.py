"""The product subscriptions' listing index, built without locking the table."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("outbox", "0006_product_subscriptions")]

    operations = [
        AddIndexConcurrently(
            "webhooksubscription",
            models.Index(
                fields=["tenant_id", "tool_id", "created_at"],
                condition=models.Q(tool__isnull=False),
                name="idx_webhook_subscription_tenant_id_tool_id_created_at",
            ),
        ),
    ]
