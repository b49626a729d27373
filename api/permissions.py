"""Who may do what through the manage API: the Django permissions the admin checks, through user.has_perm.

The Responders and Page admins groups hold them (accounts.roles), so a key can do exactly what its user can
do in the admin. A view lists what each method needs in `required_permissions`.
"""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class HasPermissions(BasePermission):
    """The key's user holds every permission in `perms`, or, when none are given, those the view requires for
    the request's method (`view.required_permissions`; safe methods as GET, PUT as PATCH). Nothing declared: refused."""

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
        if not self.perms and not hasattr(view, request.method.lower()):
            return True  # the view answers 405
        needed = self.needed(request, view)
        if not needed:
            raise exceptions.PermissionDenied("This method is not open to API keys.")
        for perm in needed:
            if not request.user.has_perm(perm):
                raise exceptions.PermissionDenied(f"This API key's user lacks the permission {perm}.")
        return True

    def check(self, request, view) -> None:
        """For a rule inside a view (e.g. a component's details, beyond its status)."""
        self.has_permission(request, view)
