# Indexes for the violation admin and the dashboard (open violations by first seen and by rule).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_initial"),
        ("sync", "0004_passback"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="violation",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=["first_seen", "id"],
                name="open_by_first_seen",
            ),
        ),
        migrations.AddIndex(
            model_name="violation",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=["rule", "assignment"],
                name="open_by_rule",
            ),
        ),
    ]
