"""A worker killed in the middle of a chunk of webhooks loses nothing: the real worker processes, the Redis
broker (on this run's own queue), PostgreSQL and a slow local HTTP receiver. The dead claim is handed back by a
sweep run here at once (the beat's sweeper does the same after the stuck window), so the test is short."""

import os
import signal
import time
from collections import Counter

import pytest

from incidents import services
from notifications import conf
from notifications.endpoint_subscribers import subscribe_endpoint
from notifications.models import Delivery, DeliveryStatus
from notifications.tasks import sweep
from tests.test_outbox_recovery import celery, kill_group
from tests.webhook_receiver import start_receiver

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_killed_mid_chunk_of_webhooks_loses_none_and_repeats_at_most_two_windows(
    postgres, outbox_app, page, make_component, settings
):
    from tests.conftest import _RUN

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    receiver = start_receiver()
    receiver.delay = 0.1  # a window of POSTs takes 0.1 s: time to kill the worker in the middle of a chunk
    n = 150
    for i in range(n):
        subscribe_endpoint(page=page, channel="webhook", endpoint=receiver.url(f"/h{i}"), confirmed=True)
    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_QUEUE": outbox_app.conf.task_default_queue,
        "CELERY_BROKER_KEY_PREFIX": f"{_RUN}:",
        "CACHE_KEY_PREFIX": f"{_RUN}-webhook-kill",
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_NAME", None)
    processes = []
    try:
        first = celery("worker", "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle", env=env)
        processes.append(first)
        assert first.ready.wait(60), "".join(first.lines)
        outbox_app.conf.task_always_eager = False
        api = make_component("Search")
        services.incident_create(page=page, name="Kill", body="Looking.", affected=[api])
        deadline = time.monotonic() + 60
        while len(receiver.received) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        kill_group(first)
        at_kill = len(receiver.received)
        assert 20 <= at_kill < n, f"{at_kill} received before the kill"
        settings.NOTIFICATIONS_STUCK_AFTER_SECONDS = 0  # no live worker: the dead claim goes back at once
        assert sweep()["stuck"] > 0
        replacement = celery("worker", "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle",
                             env=env)  # fmt: skip
        processes.append(replacement)
        everyone = {f"/h{i}" for i in range(n)}
        deadline = time.monotonic() + 60
        while {r.path for r in receiver.received} != everyone and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {r.path for r in receiver.received} == everyone
        time.sleep(1)  # anything sent twice would arrive now
        repeated = sum(Counter(r.path for r in receiver.received).values()) - n
        # At most the two windows not yet recorded (one in flight, the one before it).
        assert repeated <= 2 * conf.endpoint_window(), f"{repeated} sent twice"
        assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    finally:
        outbox_app.conf.task_always_eager = True
        for process in reversed(processes):
            kill_group(process, signal.SIGTERM)
        receiver.server.shutdown()
