from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(name="Probe", fields=[("id", models.BigAutoField(primary_key=True)),
                                                    ("label", models.CharField(max_length=10))],
                               options={"db_table": "lint_probe"}),
    ]
