"""Webhook secrets move to application-level encryption, with a previous secret for rotation.
No subscription could exist before this migration (no route or admin created them)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [
        migrations.RemoveField("webhooksubscription", "secret"),
        migrations.AddField(
            "webhooksubscription", "secret_encrypted", models.BinaryField(default=b""), preserve_default=False
        ),
        migrations.AddField(
            "webhooksubscription", "previous_secret_encrypted", models.BinaryField(blank=True, null=True)
        ),
        migrations.AddField(
            "webhooksubscription", "previous_secret_expires_at", models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            "webhooksubscription", "key_version", models.PositiveSmallIntegerField(default=1), preserve_default=False
        ),
        migrations.AddField("webhooksubscription", "failing_since", models.DateTimeField(blank=True, null=True)),
    ]
