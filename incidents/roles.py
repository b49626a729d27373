"""The two staff roles. Groups of these names are created by a data migration.

Responders declare and update incidents and maintenances, set component statuses and use templates.
Page admins can also manage pages, components, groups, subscribers, API keys and users. Superusers can
do everything. The admin, the manage API and API keys all ask these two questions.
"""

RESPONDERS = "Responders"
PAGE_ADMINS = "Page admins"


def _in_group(user, name: str) -> bool:
    cache = getattr(user, "_role_names", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True)) if user.pk else set()
        user._role_names = cache
    return name in cache


def is_page_admin(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or _in_group(user, PAGE_ADMINS)))


def is_responder(user) -> bool:
    """Responders and everyone above them."""
    return bool(user and user.is_active and (is_page_admin(user) or _in_group(user, RESPONDERS)))
