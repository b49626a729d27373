from django.core.management.base import BaseCommand

from accounts.management.lookups import page_by_code, user_by_name
from accounts.models import Role
from accounts.services import member_set


class Command(BaseCommand):
    help = "Give a user a role on one page (replacing the role they had there); the user is made staff."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("page_id", help="the page's id, as in /p/<page id>/")
        parser.add_argument("--role", required=True, choices=Role.values)

    def handle(self, *args, username, page_id, role, **options):
        membership = member_set(user=user_by_name(username), page=page_by_code(page_id), role=role)
        self.stdout.write(f"{membership.user} is now {membership.get_role_display().lower()} of {membership.page}.")
