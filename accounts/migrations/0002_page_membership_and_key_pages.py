"""Per-page membership and keys limited to pages. Today's installs keep working: every staff user in a role
(the groups Page admins or Responders, as accounts.roles.is_page_admin / is_responder read them) becomes a member
of every existing page with that role, and every existing key reaches its user's pages (every page for a
superuser's key)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ROLE_OF_GROUP = (("Page admins", "page_admin"), ("Responders", "responder"))  # the higher role first


def members_and_keys_from_roles(apps, schema_editor):
    db = schema_editor.connection.alias
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Page = apps.get_model("incidents", "Page")
    Membership = apps.get_model("accounts", "Membership")
    ApiKey = apps.get_model("accounts", "ApiKey")
    page_ids = list(Page.objects.using(db).values_list("pk", flat=True))
    role_of = {}
    for group, role in reversed(ROLE_OF_GROUP):  # the higher role overwrites the lower one
        for user_id in User.objects.using(db).filter(is_staff=True, groups__name=group).values_list("pk", flat=True):
            role_of[user_id] = role
    Membership.objects.using(db).bulk_create(
        [
            Membership(user_id=user_id, page_id=page_id, role=role)
            for user_id, role in role_of.items()
            for page_id in page_ids
        ],
        ignore_conflicts=True,
    )
    superusers = set(User.objects.using(db).filter(is_superuser=True).values_list("pk", flat=True))
    links = []
    for key_id, user_id in ApiKey.objects.using(db).values_list("pk", "user_id"):
        if user_id in superusers or user_id in role_of:
            links += [ApiKey.pages.through(apikey_id=key_id, page_id=page_id) for page_id in page_ids]
    ApiKey.pages.through.objects.using(db).bulk_create(links, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("incidents", "0013_check_constraints"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="pages",
            field=models.ManyToManyField(
                help_text="The pages this key may reach (its user must be a member of each).",
                related_name="api_keys",
                to="incidents.page",
            ),
        ),
        migrations.AddField(
            model_name="apikey",
            name="read_only",
            field=models.BooleanField(default=False, help_text="A read-only key can read but never write."),
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[("responder", "Responder"), ("page_admin", "Page admin")],
                        default="responder",
                        max_length=16,
                    ),
                ),
                (
                    "page",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="incidents.page"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["page_id", "user_id"],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "page"), name="one_membership_per_user_and_page")
                ],
            },
        ),
        migrations.RunPython(members_and_keys_from_roles, migrations.RunPython.noop, elidable=False),
    ]
