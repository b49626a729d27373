"""The two staff roles, as groups of Django permissions. Groups of these names are created by a data migration.

Responders declare and update incidents and maintenances, set component statuses and use templates.
Page admins can also manage pages, components (their details too), groups, subscribers, API keys and users.
Superusers can do everything. The admin, the manage API and API keys all ask `user.has_perm(...)`: the groups
only decide which permissions a user holds.
"""

from incidents.permissions import CUSTOM_PERMISSIONS

RESPONDERS = "Responders"
PAGE_ADMINS = "Page admins"
ROLES = (RESPONDERS, PAGE_ADMINS)


def _in_group(user, name: str) -> bool:
    cache = getattr(user, "_role_names", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True)) if user.pk else set()
        user._role_names = cache
    return name in cache


# Which role a user holds (e.g. to carry today's roles over to per-page membership). Not for authorisation:
# what a user may do is `user.has_perm(...)`, in the admin and the API alike.


def is_page_admin(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or _in_group(user, PAGE_ADMINS)))


def is_responder(user) -> bool:
    """Responders and everyone above them."""
    return bool(user and user.is_active and (is_page_admin(user) or _in_group(user, RESPONDERS)))


# What each role may do in the admin, as Django permissions ("app_label.codename").
RESPONDER_PERMISSIONS = {
    "incidents.view_page",
    "incidents.view_componentgroup",
    "incidents.view_component",
    "incidents.change_component",  # the status only: the details need incidents.permissions.COMPONENT_DETAILS
    "incidents.view_componentstatuschange",
    "incidents.view_incident",
    "incidents.add_incident",
    "incidents.change_incident",
    "incidents.view_incidentupdate",
    "incidents.add_incidentupdate",
    "incidents.change_incidentupdate",
    "incidents.delete_incidentupdate",
    "incidents.view_incidenttemplate",
}
# Page admins hold every permission of these apps (the custom ones included), and manage users.
PAGE_ADMIN_APPS = ("incidents", "notifications", "accounts")
PAGE_ADMIN_EXTRA_MODELS = (("auth", "user"),)


def create_custom_permissions() -> None:
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    for model, codename, name in CUSTOM_PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label="incidents", model=model)
        Permission.objects.update_or_create(content_type=content_type, codename=codename, defaults={"name": name})


def sync_role_permissions(**kwargs) -> None:
    """Create the two groups and the custom permissions if needed, and give each group exactly its permissions
    (run after migrate)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    create_custom_permissions()
    responders, _ = Group.objects.get_or_create(name=RESPONDERS)
    page_admins, _ = Group.objects.get_or_create(name=PAGE_ADMINS)
    wanted = Q(pk__in=[])
    for dotted in RESPONDER_PERMISSIONS:
        app_label, codename = dotted.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    responders.permissions.set(Permission.objects.filter(wanted))
    admin_perms = Q(content_type__app_label__in=PAGE_ADMIN_APPS)
    for app_label, model in PAGE_ADMIN_EXTRA_MODELS:
        admin_perms |= Q(content_type__app_label=app_label, content_type__model=model)
    page_admins.permissions.set(Permission.objects.filter(admin_perms))


def staff_for_roles(user) -> bool:
    """A user in Responders or Page admins must be staff to log in to the admin: make them so.

    Called by the user admin after it saved the groups. Returns whether the user was changed.
    """
    if user.is_staff or not user.groups.filter(name__in=ROLES).exists():
        return False
    type(user).objects.filter(pk=user.pk).update(is_staff=True)
    user.is_staff = True
    return True
