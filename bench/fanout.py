"""Fan-out benchmark: one update to N confirmed subscribers through the real pipeline, against plain smtplib.

    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/fanout.py [--subscribers 10000] [--webhooks]

With --webhooks (5,000 subscribers unless told) the subscribers are webhooks on a local HTTP receiver (its own
process, keep-alive), each POST signed, and the plain loop is the same POSTs over a urllib3 keep-alive pool; a
second loop, with http.client on one kept-alive connection (what the worker posts with), is shown beside it.

(or `make bench-fanout`). It creates a throwaway PostgreSQL database beside DATABASE_URL's, starts a local
SMTP sink (aiosmtpd, in its own process) and one Celery worker process (`celery -A statuspage worker`,
solo pool) on a queue of its own, posts an incident update with "notify", and measures the time from the
post to the last message accepted by the sink, and the worker's peak memory (VmHWM). Then, in the same
run, a plain smtplib loop sends the same number of similar messages to the same sink over one connection.
"""

import argparse
import multiprocessing
import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import ROOT, admin_execute, free_port, with_database  # noqa: E402

# -- the SMTP sink, in its own process ---------------------------------------------------------------------


def run_sink(port, count, last_at, ready, stop):
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with count.get_lock():
                count.value += 1
            last_at.value = time.time()
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def run_http_sink(port, count, last_at, ready, stop):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with count.get_lock():
                count.value += 1
            last_at.value = time.time()

    ThreadingHTTPServer.request_queue_size = 128  # several connections at once (the default backlog is 5)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    stop.wait()
    server.shutdown()


# -- the worker process ------------------------------------------------------------------------------------


TASK_TIMES: dict[str, list[float]] = {}  # per task name, the worker's own time of each run ("succeeded in")
SUCCEEDED = re.compile(r"Task ([\w.]+)\[[^\]]+\] succeeded in ([\d.]+)s")


def start_worker(env: dict) -> subprocess.Popen:
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "statuspage", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    ready = threading.Event()

    def read():
        for line in worker.stdout:
            if "ready." in line:
                ready.set()
            if match := SUCCEEDED.search(line):
                TASK_TIMES.setdefault(match[1].rsplit(".", 1)[-1], []).append(float(match[2]))
            if "ERROR" in line or "Traceback" in line:
                sys.stderr.write("worker: " + line)

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(60):
        worker.kill()
        raise SystemExit("The Celery worker did not start within 60 s")
    return worker


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the plain smtplib loop --------------------------------------------------------------------------------


def plain_loop(port: int, n: int, sample_text: str, sample_html: str) -> None:
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            message = EmailMessage()
            message["Subject"] = "[Bench Cloud] Search is slow: Investigating"
            message["From"] = "status@localhost"
            message["To"] = f"plain{i}@example.com"
            message["Message-ID"] = f"<plain.{i}@localhost>"
            message.set_content(sample_text)
            message.add_alternative(sample_html, subtype="html")
            smtp.send_message(message)


def plain_posts(port: int, n: int, body: bytes) -> None:
    import urllib3

    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1)
    for _ in range(n):
        pool.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"}, retries=False)


def plain_http_client_posts(port: int, n: int, body: bytes) -> None:
    """The same POSTs with the standard library's http.client on one kept-alive connection (what the worker
    itself posts with): the floor of a POST's cost, shown beside the urllib3 pool the target is set against."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(n):
        connection.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
        connection.getresponse().read()
    connection.close()


def wait_for(count, target: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count.value >= target:
            return True
        time.sleep(0.01)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=None, help="10,000 (5,000 with --webhooks)")
    parser.add_argument("--webhooks", action="store_true", help="webhook subscribers on a local HTTP receiver")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    webhooks = args.webhooks
    n = args.subscribers or (5_000 if webhooks else 10_000)

    redis_url, database_url = os.environ.get("REDIS_URL"), os.environ.get("DATABASE_URL")
    if not redis_url or not (database_url or "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set REDIS_URL and DATABASE_URL (PostgreSQL): see the README, section Notifications.")

    run = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    bench_db = with_database(database_url, f"statuspage_{run}")
    admin_execute(database_url, f'CREATE DATABASE "statuspage_{run}"')
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_db,
        "SECRET_KEY": os.environ.get("SECRET_KEY", f"bench-only-{run}"),
        "CACHE_KEY_PREFIX": run,
        "CELERY_QUEUE": run,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "NOTIFICATIONS_RATE_LIMIT": "0",
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)

    count, last_at = multiprocessing.Value("i", 0), multiprocessing.Value("d", 0.0)
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    sink = multiprocessing.Process(
        target=run_http_sink if webhooks else run_sink, args=(port, count, last_at, ready, stop), daemon=True
    )
    sink.start()
    ready.wait(10)
    worker = None
    try:
        import django

        os.environ["DJANGO_SETTINGS_MODULE"] = "statuspage.settings"
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from incidents import services
        from incidents.choices import ComponentStatus
        from notifications import webhook_payloads
        from notifications.emails import NotificationEmail
        from notifications.models import Delivery, Notification, Subscriber, SubscriberState
        from notifications.webhook_payloads import new_secret

        page = services.page_create(name="Bench Cloud")
        search = services.component_create(page=page, name="Search")
        if webhooks:
            rows = [
                Subscriber(page=page, channel="webhook", endpoint=f"http://127.0.0.1:{port}/hook?s={i}",
                           email=f"hook{i}@example.com", signing_secret=new_secret(), state=SubscriberState.CONFIRMED)
                for i in range(n)
            ]  # fmt: skip
        else:
            rows = [
                Subscriber(page=page, email=f"reader{i}@example.com", state=SubscriberState.CONFIRMED) for i in range(n)
            ]
        Subscriber.objects.bulk_create(rows, batch_size=2000)
        sink_name = "HTTP receiver" if webhooks else "SMTP sink"
        print(f"{n} confirmed subscribers; {sink_name} on 127.0.0.1:{port}; starting the worker…", flush=True)
        worker = start_worker(env)

        started = time.time()
        incident = services.incident_create(
            page=page,
            name="Search is slow",
            body="We are investigating **slow searches** in the EU region.\n\n- queries time out\n- retries help",
            # Webhooks also get a component event for each status change: the webhook run names the component
            # without changing its status, so that its N messages are the one incident event's, like the loop's.
            **({"affected": [search]} if webhooks else {"components": {search: ComponentStatus.DEGRADED_PERFORMANCE}}),
        )
        if not wait_for(count, n, args.timeout):
            raise SystemExit(f"Only {count.value} of {n} messages arrived within {args.timeout} s")
        pipeline_seconds = last_at.value - started
        worker_mb = peak_rss_mb(worker.pid)
        # The sink accepts a message a moment before the worker records it as sent.
        deadline = time.monotonic() + 10
        while (sent := Delivery.objects.filter(status="sent").count()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        notification = Notification.objects.get(update__incident=incident)
        count.value = 0
        plain_started = time.time()
        if webhooks:
            body = webhook_payloads.for_subscriber(webhook_payloads.event_of(notification), "u")
            plain_posts(port, n, body)
        else:
            sample = NotificationEmail(notification).build(Subscriber.objects.first())
            plain_loop(port, n, sample.body, sample.alternatives[0][0])
        if not wait_for(count, n, 60):
            raise SystemExit("The plain loop's messages did not all arrive")
        plain_seconds = last_at.value - plain_started

        pipeline_rate, plain_rate = n / pipeline_seconds, n / plain_seconds
        floor_rate = None
        if webhooks:
            count.value = 0
            floor_started = time.time()
            plain_http_client_posts(port, n, body)
            if not wait_for(count, n, 60):
                raise SystemExit("The http.client loop's messages did not all arrive")
            floor_rate = n / (last_at.value - floor_started)
        print(f"subscribers                   {n}")
        print(f"pipeline: post → last accepted {pipeline_seconds:8.2f} s  {pipeline_rate:8.0f} msg/s  ({sent} sent)")
        plain_name = "plain urllib3 POST loop" if webhooks else "plain smtplib loop"
        print(f"{plain_name:<30}{plain_seconds:8.2f} s  {plain_rate:8.0f} msg/s")
        print(f"ratio pipeline / plain        {pipeline_rate / plain_rate:8.2f}   (target ≥ 0.8)")
        if floor_rate is not None:
            print(f"plain http.client loop (1 conn)           {floor_rate:8.0f} msg/s")
            print(f"ratio pipeline / http.client  {pipeline_rate / floor_rate:8.2f}   (shown, no target)")
        print(f"worker peak memory (VmHWM)    {worker_mb:8.1f} MB  (target < 300 MB)")
        for name, times in sorted(TASK_TIMES.items()):  # the worker's time in its tasks, the rest is the broker's
            each = 1000 * sum(times) / len(times)
            print(f"worker: {name:<22}{len(times):5d} runs {sum(times):8.2f} s  ({each:.0f} ms each)")
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
        stop.set()
        sink.join(10)
        from django.db import connections

        connections.close_all()
        admin_execute(database_url, f'DROP DATABASE IF EXISTS "statuspage_{run}" WITH (FORCE)')


if __name__ == "__main__":
    main()
