"""Incident templates carry a status per component: the template's components move to a through model."""

import django.db.models.deletion
from django.db import migrations, models


def copy_components(apps, schema_editor):
    IncidentTemplate = apps.get_model("incidents", "IncidentTemplate")
    IncidentTemplateComponent = apps.get_model("incidents", "IncidentTemplateComponent")
    old = IncidentTemplate.components.through.objects.all()
    IncidentTemplateComponent.objects.bulk_create(
        IncidentTemplateComponent(template_id=row.incidenttemplate_id, component_id=row.component_id, status="")
        for row in old.iterator()
    )


def copy_back(apps, schema_editor):
    IncidentTemplate = apps.get_model("incidents", "IncidentTemplate")
    IncidentTemplateComponent = apps.get_model("incidents", "IncidentTemplateComponent")
    through = IncidentTemplate.components.through
    through.objects.bulk_create(
        through(incidenttemplate_id=link.template_id, component_id=link.component_id)
        for link in IncidentTemplateComponent.objects.iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0010_incident_postmortem_notify"),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentTemplateComponent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("operational", "Operational"),
                            ("degraded_performance", "Degraded Performance"),
                            ("partial_outage", "Partial Outage"),
                            ("major_outage", "Major Outage"),
                            ("under_maintenance", "Under Maintenance"),
                        ],
                        default="",
                        help_text="The status the template sets; blank: none (declaring from it suggests a partial outage).",
                        max_length=32,
                    ),
                ),
                (
                    "component",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="incidents.component"
                    ),
                ),
                (
                    "template",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="component_links",
                        to="incidents.incidenttemplate",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("template", "component"), name="one_status_per_template_component"
                    )
                ],
            },
        ),
        migrations.RunPython(copy_components, copy_back),
        migrations.RemoveField(model_name="incidenttemplate", name="components"),
        migrations.AddField(
            model_name="incidenttemplate",
            name="components",
            field=models.ManyToManyField(
                blank=True,
                related_name="+",
                through="incidents.IncidentTemplateComponent",
                through_fields=("template", "component"),
                to="incidents.component",
            ),
        ),
    ]
