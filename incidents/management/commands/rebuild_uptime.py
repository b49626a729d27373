from django.core.management.base import BaseCommand

from incidents.models import Component
from incidents.uptime_rollups import rebuild_component_days


class Command(BaseCommand):
    help = "Rebuild the uptime rollups from the status history (after importing status changes in bulk)."

    def add_arguments(self, parser):
        parser.add_argument("--page", help="only this page's components (its id)")

    def handle(self, *args, page=None, **options):
        components = Component.objects.select_related("page")
        if page:
            components = components.filter(page__code=page)
        components = list(components)
        rebuild_component_days(components)
        self.stdout.write(f"Rebuilt the uptime of {len(components)} components.")
