"""API keys move from the `api` app to `accounts` without touching their table (api_apikey) or its rows.

State only: the model now belongs to accounts (api's 0002 forgets it there). The content type moves too, so the
permissions on API keys (held by Page admins, or given to one user) and the admin's log of keys stay as they were.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, old="api", new="accounts"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model="apikey").exists():
        ContentType.objects.using(db).filter(app_label=old, model="apikey").update(app_label=new)
    ContentType.objects.clear_cache()


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="accounts", new="api")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("api", "0001_initial"),  # created the table
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "name",
                            models.CharField(
                                blank=True, help_text="What the key is for, e.g. the monitoring tool.", max_length=100
                            ),
                        ),
                        (
                            "prefix",
                            models.CharField(editable=False, help_text="The key's first characters.", max_length=10),
                        ),
                        ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="api_keys",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "API key",
                        "db_table": "api_apikey",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back, elidable=False),
    ]
