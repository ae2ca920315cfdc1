"""What a zero-downtime deploy must not ship: an index built under a write lock, and a NOT NULL
column without a default that old code (still running) cannot insert into."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]
    operations = [
        migrations.AddIndex("probe", models.Index(fields=["label"], name="idx_lint_probe_label")),
        migrations.AddField("probe", "code", models.CharField(max_length=10)),
    ]
