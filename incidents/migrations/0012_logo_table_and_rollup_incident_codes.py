"""The page logo moves to its own table (PageLogo); the uptime rollups keep incident codes, not names."""

import django.db.models.deletion
from django.db import migrations, models


def logos_to_table(apps, schema_editor):
    Page, PageLogo = apps.get_model("incidents", "Page"), apps.get_model("incidents", "PageLogo")
    for pk, data in Page.objects.exclude(logo_type="").values_list("pk", "logo").iterator(chunk_size=50):
        if data:
            PageLogo.objects.create(page_id=pk, data=bytes(data))
        else:
            Page.objects.filter(pk=pk).update(logo_type="")


def logos_to_pages(apps, schema_editor):
    Page, PageLogo = apps.get_model("incidents", "Page"), apps.get_model("incidents", "PageLogo")
    for pk, data in PageLogo.objects.values_list("page_id", "data").iterator(chunk_size=50):
        Page.objects.filter(pk=pk).update(logo=bytes(data))


def names_to_codes(apps, schema_editor):
    ComponentDay = apps.get_model("incidents", "ComponentDay")
    for day in ComponentDay.objects.only("pk", "incident_codes").iterator(chunk_size=2000):
        if isinstance(day.incident_codes, dict):  # was {code: name}, in the order the incidents came
            ComponentDay.objects.filter(pk=day.pk).update(incident_codes=list(day.incident_codes))


def codes_to_names(apps, schema_editor):
    ComponentDay, Incident = apps.get_model("incidents", "ComponentDay"), apps.get_model("incidents", "Incident")
    for day in ComponentDay.objects.only("pk", "incident_codes").iterator(chunk_size=2000):
        if isinstance(day.incident_codes, list):
            names = dict(Incident.objects.filter(code__in=day.incident_codes).values_list("code", "name"))
            mapping = {code: names[code] for code in day.incident_codes if code in names}
            ComponentDay.objects.filter(pk=day.pk).update(incident_codes=mapping)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0011_incident_template_component_statuses"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageLogo",
            fields=[
                (
                    "page",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="logo",
                        serialize=False,
                        to="incidents.page",
                    ),
                ),
                ("data", models.BinaryField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(logos_to_table, logos_to_pages),
        migrations.RemoveField(model_name="page", name="logo"),
        migrations.RenameField(model_name="componentday", old_name="incidents", new_name="incident_codes"),
        migrations.AlterField(
            model_name="componentday",
            name="incident_codes",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(names_to_codes, codes_to_names),
    ]
