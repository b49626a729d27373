"""Publishing a page: render its addresses through the views, write what changed, delete what is gone.

One publisher at a time per target (a lock in the cache), so an older rendering never overwrites a newer
one. A republish re-renders the page-wide files (home, history, uptime, feeds, calendar, API collections)
and only those incident files whose incident, updates, components or page settings changed since the last
publish to that target (their digests are kept in the target, under .publish-state/), plus the incidents
still open (their pages say "ongoing for …", which moves with the clock). `full=True` (the management
command) renders everything.
"""

import hashlib
import json
import logging
import math
from collections import defaultdict

from django.conf import settings

from incidents import languages
from incidents.choices import CLOSED_STATUSES, ComponentStatus
from incidents.models import Component, ComponentDay, ComponentGroup, Incident, IncidentUpdate, Page
from incidents.publishing import site
from incidents.publishing.lock import LOCK_TIMEOUT, LOCK_WAIT, Busy, TargetLock  # noqa: F401 - run.Busy, …
from incidents.publishing.target import open_target

log = logging.getLogger(__name__)


def incident_digests(page: Page) -> dict[str, str]:
    """A digest per incident code of everything its page and JSON show, besides the clock."""
    page_row = Page.objects.filter(pk=page.pk).values().get()
    for moving in ("version", "updated_at"):  # bumped by every write to any of the page's rows
        page_row.pop(moving)
    base = repr(sorted(page_row.items())).encode()
    groups = {g["id"]: g for g in ComponentGroup.objects.filter(page=page).values()}
    components = {c["id"]: c for c in Component.objects.filter(page=page).values()}
    links = defaultdict(list)
    through = Incident.components.through.objects.filter(incident__page=page)
    for incident_id, component_id in through.values_list("incident_id", "component_id").order_by("id"):
        links[incident_id].append(component_id)
    updates = defaultdict(list)
    for row in IncidentUpdate.objects.filter(incident__page=page).order_by("id").values():
        updates[row["incident_id"]].append(row)
    digests = {}
    for row in Incident.objects.filter(page=page).values():
        digest = hashlib.sha256(base)
        digest.update(repr(sorted(row.items())).encode())
        for update in updates[row["id"]]:
            digest.update(repr(sorted(update.items())).encode())
        for component_id in links[row["id"]]:
            component = components.get(component_id, {})
            digest.update(repr(sorted(component.items())).encode())
            digest.update(repr(sorted(groups.get(component.get("group_id"), {}).items())).encode())
        digests[row["code"]] = digest.hexdigest()
    return digests


def component_digests(page: Page, now) -> tuple[dict[str, str], set[str]]:
    """A digest per component (key site.component_key) of everything its badges show, and the keys of those whose
    badges move with the clock (a component that is not operational: its uptime falls while it lasts)."""
    from incidents.uptime import DEFAULT_DAYS, first_day_of, partial_weight

    tz = page.tz
    first_day = first_day_of(tz, now, DEFAULT_DAYS)
    days = defaultdict(list)
    rollups = ComponentDay.objects.filter(component__page=page, day__gte=first_day).order_by("component_id", "day")
    for row in rollups.values():
        days[row["component_id"]].append(row)
    shared = f"{page.time_zone}|{first_day}|{partial_weight()}".encode()
    digests, moving = {}, set()
    for row in Component.objects.filter(page=page).values():
        key = site.component_key(row["code"])
        digest = hashlib.sha256(shared)
        digest.update(repr(sorted(row.items())).encode())
        for day in days[row["id"]]:
            digest.update(repr(sorted(day.items())).encode())
        digests[key] = digest.hexdigest()
        if row["status"] != ComponentStatus.OPERATIONAL:
            moving.add(key)
    return digests, moving


STATE_DIR = ".publish-state/"  # what was published, per page: hidden, so never served (deploy/nginx-static.conf)
ROOT_SKIP = ("p/", "static/", STATE_DIR)  # under the root, the default page's tree is everything else


def language_leads() -> list[str]:
    """Where each language's tree starts: "" (the addresses without a code), "fr/", "de/", …"""
    return ["", *(f"{code}/" for code in languages.codes())]


def history_digests(page: Page, now, digests: dict[str, str]) -> dict[str, tuple[str, set[str]]]:
    """history/<n> → (a digest of what that older history page lists, the codes it lists), for n ≥ 2."""
    from incidents.views import HISTORY_PER_PAGE

    listed = Incident.objects.filter(page=page, started_at__lte=now).order_by("-started_at", "-id")
    codes = list(listed.values_list("code", flat=True))
    count = max(1, math.ceil(len(codes) / HISTORY_PER_PAGE))
    found = {}
    for number in range(2, count + 1):
        chunk = codes[(number - 1) * HISTORY_PER_PAGE : number * HISTORY_PER_PAGE]
        material = f"{count}|{number}|" + "|".join(f"{code}:{digests[code]}" for code in chunk)
        found[f"history/{number}"] = (hashlib.sha256(material.encode()).hexdigest(), set(chunk))
    return found


class Publisher:
    """One run: pages rendered through a Renderer into one target, with the static assets they link to."""

    def __init__(self, target, *, full: bool = False, lock: TargetLock | None = None):
        self.target = target
        self.lock = lock
        self.full = full
        self.renderer = site.Renderer()
        self.result = site.Result()
        self.assets: set[str] = set()

    def _previous_digests(self, page: Page) -> dict[str, str]:
        if self.full:
            return {}
        try:
            return json.loads(self.target.read(f"{STATE_DIR}{page.code}.json") or b"{}")
        except ValueError:
            return {}

    def publish_page(self, page: Page) -> None:
        """Publish a page under /p/<id>/ and, for the default page, also at the root.

        The default page is rendered once, at its root address, and the same bytes go to both trees: its
        views do not depend on the address they answer at (tests/test_publishing.py checks both trees
        against the live site).
        """
        if not page.is_public:
            self.remove_page(page)  # never published; gone from the copy as soon as it stops being public
            return
        now = site.now()
        digests = incident_digests(page)
        codes = sorted(digests)
        still_open = Incident.objects.filter(page=page).exclude(status__in=CLOSED_STATUSES)
        moving = set(still_open.values_list("code", flat=True))
        history = history_digests(page, now, digests)
        moving |= {key for key, (_, listed) in history.items() if moving & listed}
        digests |= {key: digest for key, (digest, _) in history.items()}
        badge_digests, badges_moving = component_digests(page, now)
        digests |= badge_digests
        moving |= badges_moving
        previous = self._previous_digests(page)
        for lang in (None, *languages.codes()):  # every language: /, /p/<id>/, /fr/, /fr/p/<id>/, …
            self._publish_tree(page, lang, now, codes, moving, previous, digests)
        state = json.dumps(digests, sort_keys=True).encode()
        self.target.write(f"{STATE_DIR}{page.code}.json", state, "application/json")

    def _publish_tree(self, page: Page, lang: str | None, now, codes, moving, previous, digests) -> None:
        """One language's files of the page: under p/<id>/ (fr/p/<id>/), and the default page's at the root (fr/)."""
        lead = f"{lang}/" if lang else ""
        own = f"{lead}p/{page.code}/"
        entries = site.page_entries(page, "/" if page.is_default else f"/p/{page.code}/", codes, now, lang=lang)

        def files_of(entry) -> list[str]:
            return [entry.file, own + entry.file.removeprefix(lead)] if page.is_default else [entry.file]

        existing = self.target.list(own) | (self._root_files(lead) if page.is_default else set())
        for entry in entries:
            if self.lock is not None:
                self.lock.keep()
            key = entry.key
            if (
                key is not None
                and key not in moving
                and previous.get(key) == digests[key]
                and all(f in existing for f in files_of(entry))
            ):
                continue  # these files already hold what they show
            try:
                body, content_type = self.renderer.get(entry.url)
            except site.Gone:
                if entry.key is None:
                    raise  # a page-wide address (home, history, feeds, API) always answers
                continue  # deleted meanwhile: its delete bumped the page's version, the next publication prunes it
            self.result.rendered += 1
            for file in files_of(entry):
                if self.target.write(file, body, content_type):
                    self.result.written.append(file)
                else:
                    self.result.unchanged += 1
            if content_type.startswith("text/html"):
                self.assets |= site.static_files(body)
        for stale in sorted(existing - {f for entry in entries for f in files_of(entry)}):
            self.target.delete(stale)
            self.result.deleted.append(stale)

    def remove_page(self, page: Page) -> None:
        """Delete every file of a page from the target (its tree, its state, and the root if it is the default)."""
        state = f"{STATE_DIR}{page.code}.json"
        stale = self.target.list(STATE_DIR) & {state}
        for lead in language_leads():
            stale |= self.target.list(f"{lead}p/{page.code}/")
        for path in sorted(stale):
            self.target.delete(path)
            self.result.deleted.append(path)
        if page.is_default:
            self.remove_root()

    def _root_files(self, lead: str = "") -> set[str]:
        """The default page's files at the root (`lead` "fr/": under fr/): only names a page's tree can have
        (not the operator's)."""
        skip = tuple(lead + name for name in ROOT_SKIP) + (() if lead else tuple(language_leads()[1:]))
        return {name for name in self.target.list(lead, skip) if site.is_page_file(name.removeprefix(lead))}

    def remove_root(self) -> None:
        for stale in sorted(set().union(*(self._root_files(lead) for lead in language_leads()))):
            self.target.delete(stale)
            self.result.deleted.append(stale)

    def write_assets(self) -> None:
        prefix = settings.STATIC_URL.strip("/")
        for name in sorted(self.assets):
            data = site.read_static(name)
            if data is None:
                raise site.PublishError(f"the static file {name} is linked from a page but cannot be found")
            path = f"{prefix}/{name}"
            if self.target.write(path, data, _asset_type(name)):
                self.result.written.append(path)


def _asset_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _target():
    if not settings.PUBLISH_TARGET:
        return None
    return open_target(settings.PUBLISH_TARGET)


def _prune_pages(publisher: Publisher) -> None:
    """Remove the trees of pages that no longer exist, and the root when no page is the default one."""
    codes = set(Page.objects.values_list("code", flat=True))
    found = {path: path.removeprefix(STATE_DIR).removesuffix(".json") for path in publisher.target.list(STATE_DIR)}
    for lead in language_leads():
        found |= {path: path.removeprefix(f"{lead}p/").split("/")[0] for path in publisher.target.list(f"{lead}p/")}
    for path, code in found.items():
        if code not in codes:
            publisher.target.delete(path)
            publisher.result.deleted.append(path)
    if not Page.objects.filter(is_default=True).exists():
        publisher.remove_root()


def publish_page(page_id: int, *, full: bool = False, target=None, wait: float = LOCK_WAIT) -> site.Result | None:
    """Republish one page (re-read from the database); a page that is gone has its files removed."""
    target = target or _target()
    if target is None:
        return None
    with TargetLock(target, wait) as lock:
        publisher = Publisher(target, full=full, lock=lock)
        page = Page.objects.defer("logo").filter(pk=page_id).first()
        if page is None:
            _prune_pages(publisher)
            return publisher.result
        publisher.publish_page(page)
        publisher.write_assets()
        return publisher.result


def publish_all(*, full: bool = False, target=None, wait: float = LOCK_WAIT) -> site.Result | None:
    """Republish every page, and remove the files of pages that are gone."""
    target = target or _target()
    if target is None:
        return None
    with TargetLock(target, wait) as lock:
        publisher = Publisher(target, full=full, lock=lock)
        for page in Page.objects.defer("logo").order_by("id"):
            publisher.publish_page(page)
        _prune_pages(publisher)
        publisher.write_assets()
        return publisher.result
