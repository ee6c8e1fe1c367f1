from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0008_compliance_reports"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="inputs_as_of",
            field=models.DateTimeField(
                blank=True,
                help_text="Set when the run planned the whole course and IC confirmed all of it: "
                "the nightly district run skips the course until something it reads changes "
                "after this.",
                null=True,
            ),
        ),
        migrations.CreateModel(
            name="SisSlot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField(unique=True)),
                ("holder", models.CharField(blank=True, default="", max_length=100)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
            ],
            options={"verbose_name": "IC request permit", "ordering": ["number"]},
        ),
    ]
