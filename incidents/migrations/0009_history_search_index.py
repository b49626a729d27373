"""A trigram index for the history's search (incidents/search.py), on PostgreSQL only.

The search asks `UPPER(body::text) LIKE UPPER('%word%')` of the updates (Django's icontains); a GIN index
with gin_trgm_ops on UPPER(body) answers that LIKE without reading every update. pg_trgm ships with
PostgreSQL (contrib) and is a trusted extension: the database's owner may create it. SQLite has no such
index and scans, which is fine at its scale.
"""

from django.db import migrations

INDEX = "incident_update_body_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON incidents_incidentupdate USING gin ((UPPER(body)) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0008_uptime_rollups")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
