"""API keys now belong to the accounts app (its 0001 took the model over, table and rows unchanged): forget the
model here, in the migration state only. The table api_apikey stays, now accounts.ApiKey's."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiKey")],
            database_operations=[],
        ),
    ]
