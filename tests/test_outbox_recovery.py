"""The outbox recovers in seconds: a claim is checked before each message, and a dead worker's claim goes
back to the queue after a short silence (database time on both sides).

The kill test runs the real thing: Celery worker and beat processes, the Redis broker (on a queue of this
run's own), PostgreSQL, and an SMTP server that counts what it receives.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from django.core import mail
from django.core.checks import run_checks

from incidents import services
from incidents.choices import ComponentStatus as S
from notifications import sending
from notifications.channels import EmailChannel
from notifications.models import Delivery, DeliveryStatus, Notification
from notifications.tasks import sweep
from tests.notify_helpers import confirmed, recipients_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quiet_notification(page, make_component):
    api = make_component("API")
    incident = services.incident_create(
        page=page, name="Down", body="Looking.", components={api: S.MAJOR_OUTAGE}, deliver_notifications=False
    )
    notification = Notification.objects.create(update=incident.updates.get(), page=page)
    Notification.objects.filter(pk=notification.pk).update(fanned_out_at=notification.created_at)
    return notification


def test_a_send_task_that_outlives_its_claim_sends_nothing_more(page, quiet_notification, settings):
    readers = [confirmed(page, f"r{n}@example.com") for n in range(5)]
    ids = [Delivery.objects.create(notification=quiet_notification, subscriber=r).pk for r in readers]
    sent_by_the_slow_task = []

    class SlowChannel(EmailChannel):
        def send(self, message):
            sent_by_the_slow_task.append(message.to[0])
            if len(sent_by_the_slow_task) == 2:
                # This task stalled past the stuck window: the sweeper gives its rows to another run.
                settings.NOTIFICATIONS_STUCK_AFTER_SECONDS = 0
                assert sweep()["stuck"] == 4
                settings.NOTIFICATIONS_STUCK_AFTER_SECONDS = 45
            super().send(message)

    sending.send_chunk(ids, channel_class=SlowChannel)

    # The slow task sent the two it had checked (the second was in flight), then nothing more.
    assert sent_by_the_slow_task == ["r0@example.com", "r1@example.com"]
    received = Counter(recipients_of(mail.outbox))
    assert set(received) == {r.email for r in readers}
    assert [address for address, n in received.items() if n > 1] == ["r1@example.com"]  # the one in flight
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_task_time_limit_at_or_above_the_stuck_window_is_refused_by_a_system_check(settings):
    settings.NOTIFICATIONS_STUCK_AFTER_SECONDS = 45
    settings.CELERY_TASK_TIME_LIMIT = 45
    assert [e.id for e in run_checks()] == ["notifications.E001"]
    settings.CELERY_TASK_TIME_LIMIT = 300
    assert [e.id for e in run_checks()] == ["notifications.E001"]
    settings.CELERY_TASK_TIME_LIMIT = 40
    assert [e.id for e in run_checks() if e.id.startswith("notifications")] == []


# -- a worker killed mid-chunk ---------------------------------------------------------------------------------


def celery(*args, env) -> subprocess.Popen:
    """A Celery process in its own process group (a worker's pool children die with it)."""
    command = [sys.executable, "-m", "celery", "-A", "statuspage", *args, "--loglevel=INFO"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # fmt: skip
    process.ready = threading.Event()
    process.lines = []

    def read():
        for line in process.stdout:
            process.lines.append(line)
            if "ready." in line or "beat: Starting" in line:
                process.ready.set()

    threading.Thread(target=read, daemon=True).start()
    return process


def kill_group(process: subprocess.Popen, sig=signal.SIGKILL) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def test_a_worker_killed_mid_chunk_delivers_everything_within_90_s_with_at_most_one_duplicate(
    postgres, outbox_app, smtp, page, make_component, settings, tmp_path
):
    from tests.conftest import _RUN

    n = 300
    readers = [confirmed(page, f"k{i}@example.com") for i in range(n)]
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_QUEUE": outbox_app.conf.task_default_queue,
        "CELERY_BROKER_KEY_PREFIX": f"{_RUN}:",
        "CACHE_KEY_PREFIX": f"{_RUN}-kill",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "NOTIFICATIONS_RATE_LIMIT": "50",  # 200 messages a chunk take 4 s: time to kill it midway
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_NAME", None)
    processes = []
    try:
        beat = celery("beat", "--schedule", str(tmp_path / "beat-schedule"), env=env)
        first = celery("worker", "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle", env=env)
        processes += [beat, first]
        assert first.ready.wait(60), "".join(first.lines)
        outbox_app.conf.task_always_eager = False
        api = make_component("Search")
        services.incident_create(page=page, name="Kill", body="Looking.", components={api: S.MAJOR_OUTAGE})
        deadline = time.monotonic() + 60
        while len(smtp.messages) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert 60 <= len(smtp.messages) < 200, f"{len(smtp.messages)} sent before the kill"
        kill_group(first)
        killed_at = time.monotonic()
        replacement = celery("worker", "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle",
                             env=env)  # fmt: skip
        processes.append(replacement)

        everyone = {r.email for r in readers}
        while time.monotonic() - killed_at < 90 and {m["To"] for m in smtp.messages} != everyone:
            time.sleep(0.2)
        recovered = time.monotonic() - killed_at
        duplicates = len(smtp.messages) - len({m["To"] for m in smtp.messages})
        print(f"\nworker killed mid-chunk: all {n} delivered {recovered:.1f} s after the kill, {duplicates} duplicate")
        assert {m["To"] for m in smtp.messages} == everyone, f"missing after {recovered:.0f} s"
        time.sleep(2)  # anything sent twice would arrive now (the print above may have been early)
        received = Counter(m["To"] for m in smtp.messages)
        assert sum(received.values()) - n <= 1, [a for a, k in received.items() if k > 1]
        assert recovered < 90
    finally:
        outbox_app.conf.task_always_eager = True
        for process in reversed(processes):
            kill_group(process, signal.SIGTERM)


def test_after_a_broker_outage_real_workers_deliver_within_a_minute_of_its_return(
    postgres, own_redis, smtp, page, make_component, settings, tmp_path
):
    from tests.redis_server import celery_app_on

    readers = [confirmed(page, f"o{i}@example.com") for i in range(20)]
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": own_redis.url,
        "CELERY_QUEUE": "outage",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "NOTIFICATIONS_RATE_LIMIT": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_NAME", None)
    processes = []
    try:
        beat = celery("beat", "--schedule", str(tmp_path / "beat-schedule"), env=env)
        worker = celery("worker", "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle", env=env)
        processes += [beat, worker]
        assert worker.ready.wait(60), "".join(worker.lines)
        api = make_component("Search")
        with celery_app_on(own_redis.url) as app:
            app.conf.task_default_queue = "outage"
            own_redis.hang()
            started = time.monotonic()
            services.incident_create(page=page, name="Outage", body="Looking.", components={api: S.MAJOR_OUTAGE})
            assert time.monotonic() - started < 6
            time.sleep(20)  # the outage goes on; worker and beat keep failing to reach the broker
            own_redis.resume()
        back = time.monotonic()
        everyone = {r.email for r in readers}
        while time.monotonic() - back < 75 and {m["To"] for m in smtp.messages} != everyone:
            time.sleep(0.2)
        recovered = time.monotonic() - back
        print(f"\nbroker outage of 20 s: all {len(readers)} delivered {recovered:.1f} s after the broker's return")
        assert {m["To"] for m in smtp.messages} == everyone
        assert recovered < 60
        time.sleep(2)
        assert Counter(m["To"] for m in smtp.messages) == dict.fromkeys(everyone, 1)
    finally:
        for process in reversed(processes):
            kill_group(process, signal.SIGTERM)
