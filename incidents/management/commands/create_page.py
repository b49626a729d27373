from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.services import page_create


class Command(BaseCommand):
    help = "Create a status page and print only its id. The first page is the default one, served at /."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--time-zone", default="UTC", help="IANA time zone, e.g. Europe/Paris (default UTC)")
        parser.add_argument("--url", default="", help="the company's own website")

    def handle(self, *args, name, time_zone, url, **options):
        try:
            page = page_create(name=name, time_zone=time_zone, url=url)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(page.code)
