"""Reading a Statuspage page over HTTP, in Statuspage's documented shapes (manage API v1, or public API v2)."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import requests

DEFAULT_BASE_URL = "https://api.statuspage.io/v1"
PER_PAGE = 100
MAX_ATTEMPTS = 6
MAX_WAIT = 300  # seconds: a Retry-After longer than this is cut short (and the request tried again)


class SourceError(Exception):
    """The source refused or failed a request that the import needs."""


@dataclass
class Http:
    """GETs of JSON with a key, patient with rate limits (429, or Statuspage's former 420) and passing failures."""

    base_url: str
    api_key: str | None = None
    sleep: Callable[[float], None] = time.sleep
    timeout: float = 30
    session: requests.Session = field(default_factory=requests.Session)
    waited: float = 0.0  # seconds spent waiting for rate limits (for the report)

    def get(self, path: str, params: dict | None = None):
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        headers = {"Accept": "application/json", "User-Agent": "statuspage-import"}
        if self.api_key:
            headers["Authorization"] = f"OAuth {self.api_key}"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                if attempt == MAX_ATTEMPTS:
                    raise SourceError(f"GET {url}: {exc}") from None
                self._wait(2**attempt)
                continue
            if response.status_code in (420, 429) or response.status_code >= 500:
                if attempt == MAX_ATTEMPTS:
                    raise SourceError(f"GET {url}: HTTP {response.status_code} after {attempt} attempts")
                self._wait(self._retry_after(response, 2**attempt))
                continue
            if response.status_code != 200:
                raise SourceError(f"GET {url}: HTTP {response.status_code} {_error_of(response)}")
            try:
                return response.json()
            except ValueError:
                raise SourceError(f"GET {url}: the answer is not JSON") from None
        raise AssertionError("unreachable")

    def _retry_after(self, response, default: float) -> float:
        try:
            return min(max(float(response.headers.get("Retry-After", default)), 0.0), MAX_WAIT)
        except ValueError:
            return default

    def _wait(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    def every(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every item of a paged list: `page` from 1 and `per_page` until a short page (as Statuspage pages)."""
        number, seen = 1, set()
        while True:
            items = self.get(path, {**(params or {}), "page": number, "per_page": PER_PAGE})
            if not isinstance(items, list):
                raise SourceError(f"GET {path}: expected a list")
            fresh = [item for item in items if not isinstance(item, dict) or item.get("id") not in seen]
            if items and not fresh:
                return  # a server that ignores `page` answers the same items again
            seen.update(item.get("id") for item in fresh if isinstance(item, dict))
            yield from fresh
            if len(items) < PER_PAGE:
                return
            number += 1


def _error_of(response) -> str:
    try:
        return str(response.json().get("error", ""))[:200]
    except (ValueError, AttributeError):
        return response.text[:200]


@dataclass
class Snapshot:
    """Everything read from the source, in Statuspage's shapes."""

    profile: dict
    groups: list[dict]
    components: list[dict]
    incidents: list[dict]  # incidents and maintenances, each with its incident_updates
    templates: list[dict]
    subscribers: list[dict]
    notes: list[str] = field(default_factory=list)  # what the source could not give, for the report


def read_manage_api(http: Http, page_id: str, progress=None) -> Snapshot:
    """A page through the manage API v1 (a key with access to it)."""
    base = f"pages/{page_id}"
    step = progress or (lambda name, count: None)
    profile = http.get(base)
    components = [c for c in http.every(f"{base}/components") if not c.get("group")]  # Statuspage lists groups too
    step("components", len(components))
    groups = list(http.every(f"{base}/component-groups"))
    step("component groups", len(groups))
    incidents = list(http.every(f"{base}/incidents"))
    step("incidents", len(incidents))
    templates = list(http.every(f"{base}/incident_templates"))
    step("templates", len(templates))
    subscribers: dict[str, dict] = {}
    # Statuspage lists the active subscribers unless asked for a state; a server that ignores the filter
    # answers every subscriber with its own `state` each time (kept once by id).
    for state in ("active", "unconfirmed"):
        for subscriber in http.every(f"{base}/subscribers", {"state": state}):
            subscriber.setdefault("state", state)
            subscribers.setdefault(subscriber["id"], subscriber)
    step("subscribers", len(subscribers))
    return Snapshot(
        profile=profile,
        groups=groups,
        components=components,
        incidents=incidents,
        templates=templates,
        subscribers=list(subscribers.values()),
    )


def read_public_api(http: Http, progress=None) -> Snapshot:
    """A page from its public API v2 alone: components, and the incidents and maintenances it lists."""
    step = progress or (lambda name, count: None)
    summary = http.get("api/v2/components.json")
    listed = summary.get("components", [])
    components = [c for c in listed if not c.get("group")]
    step("components", len(components))
    incidents = http.get("api/v2/incidents.json").get("incidents", [])
    maintenances = http.get("api/v2/scheduled-maintenances.json").get("scheduled_maintenances", [])
    step("incidents", len(incidents) + len(maintenances))
    groups = [
        {"id": c["id"], "name": c["name"], "description": c.get("description"), "position": c.get("position"),
         "components": c.get("components", []), "created_at": c.get("created_at")}
        for c in listed if c.get("group")
    ]  # fmt: skip
    step("component groups", len(groups))
    return Snapshot(
        profile=summary["page"],
        groups=groups,
        components=components,
        incidents=incidents + maintenances,
        templates=[],
        subscribers=[],
        notes=[
            "public API v2: only the incidents and maintenances it lists (the 50 most recent of each), "
            "no templates, no subscribers, no postmortem drafts"
        ],
    )
