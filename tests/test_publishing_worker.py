"""With a real Celery worker on Redis: a burst of writes is published once or twice, soon after the last one."""

import json
import time

from incidents import services
from incidents.publishing import run
from incidents.publishing.run import publish_all
from tests.publishing_helpers import own_cache


def test_a_burst_of_writes_reaches_the_copy_soon_after_the_last_one_in_few_publications(
    outbox_worker, settings, tmp_path, monkeypatch
):
    settings.PUBLISH_TARGET = None
    own_cache(settings)
    page = services.page_create(name="Burst Cloud")
    component = services.component_create(page=page, name="API")
    root = tmp_path / "site"
    settings.PUBLISH_TARGET = f"file://{root}"
    publish_all(full=True)
    runs = []
    publish = run.publish_page

    def counted(page_id, **kwargs):
        runs.append(time.monotonic())
        return publish(page_id, **kwargs)

    monkeypatch.setattr(run, "publish_page", counted)
    statuses = ["degraded_performance", "partial_outage", "major_outage", "operational"] * 3
    for status in statuses[:10]:
        services.component_set_status(component=component, status=status)  # each commits on its own
    last_commit = time.monotonic()
    expected = statuses[9]

    def published_status():
        try:
            document = json.loads((root / "api/v2/components.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return next(c["status"] for c in document["components"] if c["id"] == component.code)

    while published_status() != expected and time.monotonic() - last_commit < 10:
        time.sleep(0.02)
    visible_after = time.monotonic() - last_commit
    assert published_status() == expected
    assert visible_after < 2.0, f"the last write reached the copy {visible_after:.2f} s after its commit"
    time.sleep(1.5)  # nothing else is waiting
    assert 1 <= len(runs) <= 3, f"{len(runs)} publications for a burst of 10 writes"
