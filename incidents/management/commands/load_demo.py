from django.core.management.base import BaseCommand

from incidents.management.demo_data import load_demo


class Command(BaseCommand):
    help = "Create or refresh the two demo pages (idempotent)."

    def handle(self, *args, **options):
        pages = load_demo()
        for page in pages:
            self.stdout.write(f"{page.code}  {page.name}  {page.get_absolute_url()}")
