from django.db import migrations

GROUPS = ("Responders", "Page admins")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    """The two staff roles; their permissions are kept in step by accounts.roles.sync_role_permissions."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("incidents", "0003_incident_postmortem"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
