"""Object permissions from per-page membership: `user.has_perm(perm, obj)` is true when the user is a member of
obj's page and their role there grants perm (accounts.roles), or perm was given to the user themselves (it counts
on their pages only). Groups grant nothing on a page: the role does (a user demoted to responder on a page is a
responder there, whatever group they are still in). Listed in AUTHENTICATION_BACKENDS after ModelBackend, which
answers the permissions without an object; superusers pass before any backend is asked.
"""

from django.contrib.auth.backends import BaseBackend, ModelBackend

from accounts.roles import page_roles, role_grants

# How to reach the page id from each kind of object, tried in order.
_PAGE_PATHS = (
    ("page_id",),
    ("incident", "page_id"),
    ("component", "page_id"),
    ("template", "page_id"),
    ("notification", "page_id"),
    ("subscriber", "page_id"),
)


def page_id_of(obj) -> int | None:
    """The page an object belongs to (a Page is its own), or None for objects of no page."""
    from incidents.models import Page

    if isinstance(obj, Page):
        return obj.pk
    for path in _PAGE_PATHS:
        value = obj
        for attribute in path:
            value = getattr(value, attribute, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


class MembershipBackend(BaseBackend):
    """Authenticates nobody (ModelBackend does); answers permissions from the user's roles on pages."""

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        roles = page_roles(user_obj)
        if obj is None:
            return any(role_grants(role, perm) for role in set(roles.values()))
        page_id = page_id_of(obj)
        if page_id is None or page_id not in roles:
            return False
        return role_grants(roles[page_id], perm) or perm in ModelBackend().get_user_permissions(user_obj)
