from django.core.management.base import BaseCommand
from django.db import transaction

from incidents.models import Component
from incidents.services import page_changed
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
        with transaction.atomic():
            rebuild_component_days(components)
            for page_id in {c.page_id for c in components}:
                page_changed(page_id)  # the pages show the new days at once (and are published again)
        self.stdout.write(f"Rebuilt the uptime of {len(components)} components.")
