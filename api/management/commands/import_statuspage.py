"""manage.py import_statuspage: move a page from Statuspage (or any server speaking its API) here, safely again."""

from django.core.management.base import BaseCommand, CommandError

from api.importer.report import Report
from api.importer.source import DEFAULT_BASE_URL, Http, SourceError, read_manage_api, read_public_api
from api.importer.writer import Writer


class Command(BaseCommand):
    help = (
        "Import a page from Statuspage with its whole history: with a manage API key (--api-key, --page-id, "
        "--base-url), or from its public page alone (--public-url). Ids are kept; running it again updates "
        "what changed and adds what is new, never doubling anything."
    )

    def add_arguments(self, parser):
        parser.add_argument("--api-key", help="a manage API key of the source (sent as Authorization: OAuth)")
        parser.add_argument("--page-id", help="the page's id at the source")
        parser.add_argument(
            "--base-url", default=DEFAULT_BASE_URL, help=f"the source's manage API (default {DEFAULT_BASE_URL})"
        )
        parser.add_argument("--public-url", help="without a key: the public status page (reads its API v2)")
        parser.add_argument("--quiet", action="store_true", help="no progress display")

    def handle(self, *args, api_key=None, page_id=None, base_url=DEFAULT_BASE_URL, public_url=None, **options):
        if public_url and (api_key or page_id):
            raise CommandError("Give either --public-url, or --api-key with --page-id, not both.")
        if not public_url and not (api_key and page_id):
            raise CommandError("Give --api-key and --page-id (the manage API), or --public-url (API v2 only).")
        report = Report(stream=None if options["quiet"] else self.stderr._out)  # its own line endings
        try:
            if public_url:
                http = Http(public_url)
                snapshot = read_public_api(http, progress=report.read)
            else:
                http = Http(base_url, api_key=api_key)
                snapshot = read_manage_api(http, page_id, progress=report.read)
        except SourceError as exc:
            raise CommandError(f"Reading the source failed, nothing was written: {exc}") from None
        page = Writer(snapshot, report, public=bool(public_url)).run()
        if http.waited:
            report.notes.append(f"waited {http.waited:.0f} s for the source's rate limit")
        self.stdout.write(f"Imported into page {page.code} ({page.name}).")
        for line in report.lines():
            self.stdout.write(line)
