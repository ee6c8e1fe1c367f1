"""The "district admin" group: view everything of courses, sync and django_q; change the policy."""

from django.db import migrations


def district_admin_group_create(apps, schema_editor):
    from sync.permissions import district_admin_group_ensure

    district_admin_group_ensure(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("courses", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("sync", "0002_rule_book"),
    ]

    operations = [
        migrations.RunPython(district_admin_group_create, migrations.RunPython.noop),
    ]
