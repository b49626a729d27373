from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.management.lookups import page_by_code, user_by_name
from accounts.services import api_key_issue


class Command(BaseCommand):
    help = (
        "Create an API key for a user, on the given pages (default: every page the user is a member of), and "
        "print only the key (it is stored hashed and cannot be shown again)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the key is for, e.g. the monitoring tool")
        parser.add_argument("--page", action="append", dest="pages", metavar="PAGE_ID", help="a page id (repeat)")
        parser.add_argument("--read-only", action="store_true", help="the key may read, never write")

    def handle(self, *args, username, name, pages, read_only, **options):
        user = user_by_name(username)
        chosen = None if not pages else [page_by_code(code) for code in pages]
        try:
            _, key = api_key_issue(user=user, name=name, pages=chosen, read_only=read_only)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(key)
