"""A visitor never sees a half-written file: publications replace files whole, even while others run."""

import contextlib
import json
import threading
import time

import pytest
from django.db import OperationalError, connections

from incidents import services
from incidents.publishing.run import publish_all
from incidents.publishing.target import TEMP_PREFIX, FileTarget
from tests.publishing_helpers import build_site, own_cache

ENDINGS = {".html": b"</html>\n", ".atom": b"</feed>", ".rss": b"</rss>", ".ics": b"END:VCALENDAR\r\n"}


def check_whole(name: str, data: bytes) -> str | None:
    """What is wrong with a published file as read by a visitor, or None."""
    if not data:
        return f"{name} is empty"
    if name.endswith(".json"):
        try:
            json.loads(data)
        except ValueError:
            return f"{name} is not whole JSON ({len(data)} bytes)"
    for suffix, ending in ENDINGS.items():
        if name.endswith(suffix) and not data.endswith(ending):
            return f"{name} is cut short ({len(data)} bytes)"
    return None


def test_readers_never_see_an_empty_or_truncated_file_while_pages_are_republished(
    transactional_db, settings, tmp_path, monkeypatch
):
    settings.PUBLISH_TARGET = None
    own_cache(settings)
    pages = build_site()
    root = tmp_path / "site"
    settings.PUBLISH_TARGET = f"file://{root}"
    publish_all(full=True)
    default = next(p for p in pages.values() if p.is_default)
    component = default.components.first()
    problems, reads, stop = [], [0], threading.Event()
    rewrites = []
    write = FileTarget.write

    def counted_write(self, path, data, content_type):
        written = write(self, path, data, content_type)
        if written:
            rewrites.append(path)
        return written

    monkeypatch.setattr(FileTarget, "write", counted_write)

    def read_forever():
        while not stop.is_set():
            for path in root.rglob("*"):
                if path.name.startswith(TEMP_PREFIX) or not path.is_file():
                    continue  # a publisher's temporary file: never served (see deploy/nginx-static.conf)
                try:
                    problem = check_whole(path.name, path.read_bytes())
                except FileNotFoundError:
                    problem = f"{path} vanished"
                reads[0] += 1
                if problem:
                    problems.append(problem)
            time.sleep(0.01)

    def publish_forever():
        try:
            while not stop.is_set():
                # SQLite's in-memory test database locks whole tables: then try again
                with contextlib.suppress(OperationalError):
                    publish_all()
                time.sleep(0.1)  # as beat would, a while later (the lock is not fair to a waiting task)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read_forever), threading.Thread(target=publish_forever)]
    for thread in threads:
        thread.start()
    try:
        # Meanwhile, writes commit and republish their page (in this thread, on commit).
        for status in ("major_outage", "operational", "degraded_performance", "partial_outage"):
            for _ in range(50):
                try:
                    services.component_set_status(component=component, status=status)
                    break
                except OperationalError:  # SQLite only (see above); PostgreSQL never gets here
                    time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert reads[0] > 200
    assert len([p for p in rewrites if not p.startswith(".")]) >= 8, rewrites  # files were replaced while read
    assert problems == []
    # and the copy ends with the last write
    summary = json.loads((root / "api/v2/summary.json").read_text())
    assert {c["id"]: c["status"] for c in summary["components"]}[component.code] == status


def test_a_file_is_replaced_whole_and_readable_by_the_web_server(tmp_path):
    target = FileTarget(str(tmp_path))
    assert target.write("a/b/index.html", b"<html>one</html>\n", "text/html") is True
    assert target.write("a/b/index.html", b"<html>one</html>\n", "text/html") is False
    assert target.write("a/b/index.html", b"<html>two</html>\n", "text/html") is True
    assert (tmp_path / "a/b/index.html").read_bytes() == b"<html>two</html>\n"
    assert (tmp_path / "a/b/index.html").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in (tmp_path / "a/b").iterdir()] == ["index.html"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    target = FileTarget(str(tmp_path))
    target.write("index.html", b"old", "text/html")

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("incidents.publishing.target.os.replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        target.write("index.html", b"new", "text/html")
    assert (tmp_path / "index.html").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
