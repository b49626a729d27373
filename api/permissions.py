"""Who may do what through the manage API: the Django permissions the admin checks, on the request's page.

A key reaches only its pages, and there acts with its user's role (accounts.roles, answered by
accounts.backends through `user.has_perm(perm, page)`), so a key can do on a page exactly what its user can do
there in the admin; a read-only key only reads. A view lists what each method needs in `required_permissions`.
"""

from django.http import Http404
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from accounts.models import ApiKey
from accounts.roles import is_read_permission

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def key_reaches(request, page) -> bool:
    """The request's key is one of the page's keys and its user still holds a role there."""
    key = request.auth
    if not isinstance(key, ApiKey) or page.pk not in {p.pk for p in key.pages.all()}:
        return False
    return request.user.has_perm("incidents.view_page", page)


def reachable_page(request, page):
    """The page, if the request's key reaches it; otherwise 404, as for a page that does not exist."""
    if page is None or not key_reaches(request, page):
        raise Http404("No such page.")
    return page


class HasPermissions(BasePermission):
    """The key's user holds every permission in `perms` on the view's page (`view.page_object()`), or, when none
    are given, those the view requires for the request's method (`view.required_permissions`; safe methods as
    GET, PUT as PATCH). Nothing declared: refused. A page the key does not reach answers 404 (first)."""

    def __init__(self, *perms: str):
        self.perms = perms

    def needed(self, request, view) -> tuple[str, ...] | None:
        if self.perms:
            return self.perms
        method = {**dict.fromkeys(SAFE_METHODS, "GET"), "PUT": "PATCH"}.get(request.method, request.method)
        return getattr(view, "required_permissions", {}).get(method)

    def has_permission(self, request, view):
        if not request.auth:
            return False  # 401 with the challenge
        page = view.page_object()  # 404 for a page the key does not reach
        if not self.perms and not hasattr(view, request.method.lower()):
            return True  # the view answers 405
        needed = self.needed(request, view)
        if not needed:
            raise exceptions.PermissionDenied("This method is not open to API keys.")
        for perm in needed:
            if request.auth.read_only and not is_read_permission(perm):
                raise exceptions.PermissionDenied("This API key is read-only.")
            if not request.user.has_perm(perm, page):
                raise exceptions.PermissionDenied(f"This API key's user lacks the permission {perm} on this page.")
        return True

    def check(self, request, view) -> None:
        """For a rule inside a view (e.g. a component's details, beyond its status)."""
        self.has_permission(request, view)
