"""python manage.py publish: write the static copy of every public page to PUBLISH_TARGET."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.publishing.run import Busy, publish_all
from incidents.publishing.site import PublishError
from incidents.publishing.target import open_target


class Command(BaseCommand):
    help = "Write a static copy of every public page (pages, feeds, calendar, API v2 JSON) to PUBLISH_TARGET."

    def add_arguments(self, parser):
        parser.add_argument(
            "--target",
            help="file:///dir or s3://bucket/prefix instead of PUBLISH_TARGET (e.g. to publish a copy elsewhere).",
        )

    def handle(self, *args, target=None, **options):
        value = target or settings.PUBLISH_TARGET
        if not value:
            raise CommandError("PUBLISH_TARGET is not set (file:///srv/status or s3://bucket/prefix); or pass --target")
        try:
            destination = open_target(value)
        except ValueError as exc:
            raise CommandError(f"{'--target' if target else 'PUBLISH_TARGET'} {exc}") from None
        try:
            result = publish_all(full=True, target=destination, wait=60)
        except Busy:
            raise CommandError("Another publisher has been busy for a minute; try again.") from None
        except PublishError as exc:
            raise CommandError(f"Publishing failed: {exc}") from None
        self.stdout.write(
            f"Published to {destination}: {len(result.written)} written, {result.unchanged} unchanged, "
            f"{len(result.deleted)} removed."
        )
