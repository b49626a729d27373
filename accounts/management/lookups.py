"""The commands' lookups of a user by name and a page by id, with an error that names what was not found."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from incidents.models import Page


def user_by_name(username: str):
    User = get_user_model()
    try:
        return User.objects.get(**{User.USERNAME_FIELD: username})
    except User.DoesNotExist:
        raise CommandError(f"No user {username!r}.") from None


def page_by_code(code: str) -> Page:
    page = Page.objects.filter(code=code).first()
    if page is None:
        raise CommandError(f"No page with the id {code!r}.")
    return page
