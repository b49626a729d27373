"""The two staff roles and what each may do, per page.

Responders declare and update incidents and maintenances, set component statuses and use templates.
Page admins can also manage pages, components (their details too), groups, subscribers, API keys and members.
Superusers can do everything. A user holds a role on a page through a Membership (accounts.models); the admin,
the manage API and API keys all ask `user.has_perm(perm, obj)`, which accounts.backends answers from the role
on obj's page. Without an object, `has_perm(perm)` means "on at least one of the user's pages" (what the
admin asks to show a menu entry or an add form). The two groups of the same names remain, holding the same
permissions, for the users and tools that still grant roles through them: they grant no page.
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


def role_grants(role: str, perm: str) -> bool:
    """Whether a role on a page (accounts.models.Role's values) grants this permission there."""
    if role == "page_admin":
        app_label, _, codename = perm.partition(".")
        return app_label in PAGE_ADMIN_APPS or (app_label, codename.partition("_")[2]) in PAGE_ADMIN_EXTRA_MODELS
    return role == "responder" and perm in RESPONDER_PERMISSIONS


def is_read_permission(perm: str) -> bool:
    """What a read-only API key may use."""
    return perm.partition(".")[2].startswith("view_")


def page_roles(user) -> dict[int, str]:
    """{page id: role} of the user's memberships, read once per user object (a request's user)."""
    cache = getattr(user, "_page_roles", None)
    if cache is None:
        from accounts.models import Membership

        cache = dict(Membership.objects.filter(user_id=user.pk).values_list("page_id", "role")) if user.pk else {}
        user._page_roles = cache
    return cache


def pages_of(user, *, role: str | None = None):
    """The pages the user may reach (every page for a superuser), or only those where they hold `role`."""
    from incidents.models import Page

    if user.is_active and user.is_superuser:
        return Page.objects.all()
    if not user.is_active:
        return Page.objects.none()
    ids = [page_id for page_id, held in page_roles(user).items() if role is None or held == role]
    return Page.objects.filter(pk__in=ids)


def admin_pages_of(user):
    """The pages the user administers (every page for a superuser)."""
    return pages_of(user, role="page_admin")


def users_managed_by(user):
    """The users a page admin may see and choose: none of another page's members (every user for a superuser);
    users on no page yet are there, so that they can be given one."""
    from django.contrib.auth import get_user_model

    from incidents.models import Page

    users = get_user_model().objects.all()
    if user.is_superuser:
        return users
    others = Page.objects.exclude(pk__in=admin_pages_of(user))
    return users.filter(is_superuser=False).exclude(memberships__page__in=others)


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
