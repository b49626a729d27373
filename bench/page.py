"""Page surge benchmark: the public site under load, side by side with its references, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/page.py [--seconds 5] [--connections 32]

(or `make bench-page`; needs Debian's `wrk`, and `nginx-light` for the static rows). It builds a throwaway
database with one page of 100 showcased components in 10 groups, about five past incidents per component
over 90 days and one open incident, then serves it with gunicorn (2 workers, the project's production
settings: PostgreSQL and Redis when set) and loads it with `wrk -t1 -c32`. In the same run:

- a bare Django app (3 middleware) serves the very same response bytes from memory (raw or gzip, as asked):
  the ratio ours / bare is what our cache layer costs on a hit;
- nginx serves the published static copy (`manage.py publish`) and a plain file of the same bytes: the
  ratio is what the published layout costs against nginx's best case.

It also prints the page weight (bytes raw and gzipped, DOM elements), the cold render time (a request right
after a write, in a warm process) and the time from a manage-API write returning to the change being
visible on the live page, in summary.json and in the published copy (through nginx, when it runs).
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.page_setup import (  # noqa: E402
    COMPONENTS,
    DAYS,
    GROUPS,
    NGINX_CONF,
    cold_render_ms,
    element_count,
    fetch,
    populate,
    published_file,
    published_site,
)
from bench.support import (  # noqa: E402
    ROOT,
    VENV_BIN,
    admin_execute,
    environment,
    free_port,
    require_tool,
    stop,
    wait_for_port,
    with_database,
    wrk_run,
)


def workers_cpu(master: subprocess.Popen) -> float:
    """CPU seconds used so far by a server's worker processes (gunicorn's or nginx's master's children)."""
    total = 0
    for pid in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def compare(first: tuple, second: tuple, args, headers: dict) -> tuple[float, float, float, float]:
    """(req/s, CPU µs per request) of two servers on one row, measured alternately in `args.rounds` rounds of
    --seconds / rounds each: load from other work on a shared machine then falls on both alike. Each server is
    (url, its master process); req/s is the median of its rounds, the CPU its workers used over all of them."""
    seconds = max(2, round(args.seconds / args.rounds))
    rates: dict[int, list[float]] = {0: [], 1: []}
    cpu, requests = [0.0, 0.0], [0, 0]
    for _ in range(args.rounds):
        for index, (url, master) in enumerate((first, second)):
            before = workers_cpu(master)
            result = wrk_run(url, seconds=seconds, connections=args.connections, headers=headers)
            if result["errors"] or result["socket_errors"]:
                raise SystemExit(f"wrk saw errors from {url}:\n{result['output']}")
            cpu[index] += workers_cpu(master) - before
            requests[index] += result["requests"]
            rates[index].append(result["rps"])
    return (
        statistics.median(rates[0]), statistics.median(rates[1]),
        cpu[0] / requests[0] * 1e6, cpu[1] / requests[1] * 1e6,
    )  # fmt: skip


def print_pairs(title: str, names: tuple[str, str], rows: dict, args) -> None:
    """One table: req/s of both servers and their ratio, and CPU µs per request of both and their ratio."""
    print(f"\n{title:34} {names[0]:>10} {names[1]:>10} {'ratio':>6} {'CPU µs/req':>16} {'ratio':>6}   (target ≥ 0.9)")
    for label, (first, second) in rows.items():
        for encoding in (None, "gzip"):
            headers = {"Accept-Encoding": encoding} if encoding else {}
            rate_a, rate_b, cpu_a, cpu_b = compare(first, second, args, headers)
            row = f"{label}{', gzip' if encoding else ''}"
            print(f"{row:34} {rate_a:10.0f} {rate_b:10.0f} {rate_a / rate_b:6.2f} {cpu_a:7.0f} {cpu_b:8.0f} "
                  f"{cpu_b / cpu_a:6.2f}", flush=True)  # fmt: skip


def write_to_visible(port: int, page_code: str, key: str, published: Path | None, nginx_port: int | None) -> dict:
    """Seconds from a manage-API write returning to its effect being visible in each place; the published copy
    as nginx serves it when it runs (its open_file_cache must not delay a change), else as the file reads."""
    name = f"Probe {uuid.uuid4().hex[:10]}"
    body = json.dumps({"incident": {"name": name, "status": "investigating", "body": "Probe.",
                                    "deliver_notifications": False}})  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", f"/api/v1/pages/{page_code}/incidents", body=body,
                       headers={"Authorization": f"OAuth {key}", "Content-Type": "application/json"})  # fmt: skip
    response = connection.getresponse()
    created = json.loads(response.read())
    returned = time.monotonic()
    assert response.status == 201, created
    seen: dict[str, float | None] = {"live page": None, "summary.json": None}
    if published is not None:
        seen["published copy"] = None
    needle = name.encode()
    deadline = returned + 15
    while time.monotonic() < deadline and any(v is None for v in seen.values()):
        if seen["live page"] is None and needle in fetch(port, "/")[2]:
            seen["live page"] = time.monotonic() - returned
        if seen["summary.json"] is None and needle in fetch(port, "/api/v2/summary.json")[2]:
            seen["summary.json"] = time.monotonic() - returned
        if "published copy" in seen and seen["published copy"] is None:
            if nginx_port is not None:
                home = fetch(nginx_port, "/")[2]
            else:
                home = published_file(published, "/")
                home = home.read_bytes() if home is not None else b""
            if needle in home:
                seen["published copy"] = time.monotonic() - returned
        time.sleep(0.005)
    connection.request("DELETE", f"/api/v1/pages/{page_code}/incidents/{created['id']}",
                       headers={"Authorization": f"OAuth {key}"})  # fmt: skip
    connection.getresponse().read()
    connection.close()
    return seen


def publishing_report(worker_log: Path, cache_url: str | None, prefix: str, arrived: bool) -> None:
    """What the publishing worker said and, if the change did not reach the copy, whether the publishers' lock
    is held (and for how long still)."""
    said = [line for line in worker_log.read_text(errors="replace").splitlines()
            if re.search(r"publish|lock|cache", line, re.IGNORECASE)]  # fmt: skip
    print(f"{'worker: lines on publishing':34} {len(said):>10}")
    for line in said[-8:]:
        print(f"  {line[:200]}")
    if cache_url and not arrived:
        import redis

        client = redis.Redis.from_url(cache_url, socket_timeout=1)
        held = [(key.decode(), client.ttl(key)) for key in client.scan_iter(match=f"{prefix}:*publish:lock:*")]
        print(f"{'publishers lock':34} {'held ' + str(held) if held else 'free':>10}")


def cache_outage(port: int, cache_redis, log: Path, args) -> None:
    """The live page while the cache's Redis hangs (SIGSTOP), then is killed: every answer 200, none over 1 s."""
    print(f"\n{'cache Redis down, under wrk':34} {'req/s':>10} {'max ms':>10} {'errors':>7}   (all 200, max < 1000 ms)")
    before = log.stat().st_size
    for phase, sig in (("hung (SIGSTOP)", signal.SIGSTOP), ("killed (SIGKILL)", signal.SIGKILL)):
        os.kill(cache_redis.pid, sig)
        time.sleep(0.2)
        for path in ("/", "/api/v2/summary.json"):
            result = wrk_run(f"http://127.0.0.1:{port}{path}", seconds=args.seconds, connections=args.connections)
            errors = result["errors"] + result["socket_errors"]
            print(f"{phase + ' ' + path:34} {result['rps']:10.0f} {result['max_ms']:10.0f} {errors:7d}", flush=True)
    cache_redis.wait(5)
    grown = log.stat().st_size - before
    lines = log.read_text(errors="replace").count("\n") if grown else 0
    print(f"{'log written meanwhile':34} {grown:10d} bytes ({lines} lines in the whole log)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=6, help="wrk time per server and row, split into rounds")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two servers of a row")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--components", type=int, default=COMPONENTS)
    args = parser.parse_args()
    require_tool("wrk", "wrk")
    nginx = None
    try:
        nginx = require_tool("nginx", "nginx-light")
    except SystemExit as missing:
        print(f"{missing}: the nginx rows are skipped")

    run = f"bench_page_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="bench-page-"))
    tmp.chmod(0o755)  # nginx's workers (user nobody) read the published copy and the plain files under it
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url:
        if not database_url.startswith(("postgres://", "postgresql://")):
            sys.exit("DATABASE_URL must point at PostgreSQL (a throwaway database is created beside it)")
        bench_db = with_database(database_url, run)
        admin_execute(database_url, f'CREATE DATABASE "{run}"')
    else:
        bench_db = f"sqlite:///{tmp / 'bench.sqlite3'}"
    port = free_port()
    published_dir = tmp / "published"
    common = {
        "DATABASE_URL": bench_db,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or f"bench-only-{run}",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "CACHE_KEY_PREFIX": run,
        "CELERY_QUEUE": run,
        "LOG_LEVEL": "WARNING",
        "API_RATE_LIMIT": "1000000/minute",
    }
    cache_redis = None
    if redis_url and shutil.which("redis-server"):
        # The cache on a Redis of the bench's own (the broker stays on REDIS_URL), so that the last phase can hang
        # and kill it without touching anything else on the machine.
        cache_port = free_port()
        cache_redis = subprocess.Popen(["redis-server", "--port", str(cache_port), "--bind", "127.0.0.1", "--save", "",
                                        "--appendonly", "no"], stdout=subprocess.DEVNULL)  # fmt: skip
        wait_for_port(cache_port, process=cache_redis)
        common["CACHE_REDIS_URL"] = f"redis://127.0.0.1:{cache_port}/0"
    os.environ.update(common)  # this process: populate, cold render (no PUBLISH_TARGET: no publishing here)
    served_env = environment(**common, PUBLISH_TARGET=f"file://{published_dir}")
    processes = [cache_redis] if cache_redis else []
    gunicorn_log, worker_log = tmp / "gunicorn.log", tmp / "worker.log"
    try:
        import django

        os.environ["DJANGO_SETTINGS_MODULE"] = "statuspage.settings"
        django.setup()
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.core.management import call_command, get_commands

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        started = time.perf_counter()
        page, open_incident, incidents = populate(args.components)
        print(f"built: {args.components} components in {GROUPS} groups, {incidents} incidents over {DAYS} days, "
              f"one open ({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
        user = User.objects.create_superuser("bench", "bench@example.com", uuid.uuid4().hex)
        from accounts.models import ApiKey

        key = ApiKey.issue(user=user, name="bench")[1]
        summary = "/api/v2/summary.json"
        paths = {"/": "/", "incident": f"/incidents/{open_incident.code}", summary: summary}

        publishing = "publish" in get_commands()
        if publishing:
            started = time.perf_counter()
            subprocess.run([str(VENV_BIN / "python"), "manage.py", "publish"], cwd=ROOT, env=served_env, check=True)
            print(f"published: the whole copy in {time.perf_counter() - started:.1f} s", flush=True)
        else:
            print("manage.py publish does not exist yet: the published-copy rows are skipped")

        # Our site: gunicorn with 2 workers and a Celery worker (notifications, publishing).
        ours = subprocess.Popen([str(VENV_BIN / "gunicorn"), "statuspage.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
                                 "--log-level", "warning"], cwd=ROOT, env=served_env,
                                stderr=gunicorn_log.open("ab"))  # fmt: skip
        processes.append(ours)
        worker = subprocess.Popen([str(VENV_BIN / "celery"), "-A", "statuspage", "worker", "--pool=solo",
                                   "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                                  cwd=ROOT, env=served_env, stderr=worker_log.open("ab"))  # fmt: skip
        processes.append(worker)
        wait_for_port(port, process=ours)

        # The bytes ours answers, for the bare app and the weight figures.
        bare_dir = tmp / "bare"
        bare_dir.mkdir()
        manifest, weight = {}, {}
        for label, path in paths.items():
            status, headers, raw = fetch(port, path)
            status_gz, headers_gz, gz = fetch(port, path, "gzip")
            assert status == status_gz == 200, (path, status, status_gz)
            if headers_gz.get("content-encoding") != "gzip":
                print(f"note: {path} was not gzipped for Accept-Encoding: gzip")
            name = f"r{len(manifest)}"
            (bare_dir / f"{name}.raw").write_bytes(raw)
            (bare_dir / f"{name}.gz").write_bytes(gz)
            manifest[path] = {"content_type": headers["content-type"], "raw": f"{name}.raw", "gzip": f"{name}.gz"}
            weight[label] = (len(raw), len(gz), element_count(raw) if path != "/api/v2/summary.json" else None)
        (bare_dir / "manifest.json").write_text(json.dumps(manifest))
        bare_port = free_port()
        bare = subprocess.Popen([str(VENV_BIN / "gunicorn"), "bench.bare_app:application", "-w", "2",
                                 "-b", f"127.0.0.1:{bare_port}", "--log-level", "warning"],
                                cwd=ROOT, env=environment(BARE_DIR=bare_dir))  # fmt: skip
        processes.append(bare)
        wait_for_port(bare_port, process=bare)

        nginx_rows = {}
        if nginx and publishing:
            plain_dir = tmp / "plain"
            plain_dir.mkdir()
            published_port, plain_port = free_port(), free_port()
            for label, path in paths.items():
                source = published_file(published_dir, path)
                if source is None:
                    print(f"the published copy has no file for {path}")
                    continue
                target = plain_dir / f"{len(nginx_rows)}{source.suffix}"
                target.write_bytes(source.read_bytes())
                packed = source.with_name(source.name + ".gz")  # like with like: the same gzip sibling, if any
                if packed.is_file():
                    target.with_name(target.name + ".gz").write_bytes(packed.read_bytes())
                nginx_rows[label] = (path, "/" + target.name)
            conf = tmp / "nginx.conf"
            site = published_site(published_dir, published_port)
            conf.write_text(NGINX_CONF.format(tmp=tmp, site=site, plain=plain_dir, plain_port=plain_port))
            server = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"])
            processes.append(server)
            wait_for_port(published_port, process=server)

        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; database: {database}; "
              f"cache: {cache}; wrk -t1 -c{args.connections}, {args.seconds} s per server and row in {args.rounds} "
              "alternating rounds")  # fmt: skip
        ours_rows = {label: ((f"http://127.0.0.1:{port}{path}", ours), (f"http://127.0.0.1:{bare_port}{path}", bare))
                     for label, path in paths.items()}  # fmt: skip
        print_pairs("request (ours ÷ bare Django)", ("ours req/s", "bare req/s"), ours_rows, args)
        if nginx_rows:
            static_rows = {
                label: ((f"http://127.0.0.1:{published_port}{path}", server),
                        (f"http://127.0.0.1:{plain_port}{plain_path}", server))
                for label, (path, plain_path) in nginx_rows.items()
            }  # fmt: skip
            print_pairs("nginx (copy ÷ plain file)", ("published", "plain file"), static_rows, args)

        print(f"\n{'weight':34} {'raw KB':>10} {'gzip KB':>10} {'elements':>9}   (home: ≤ 200 KB, ≤ 30 KB, ≤ 4000)")
        for label, (raw, gz, elements) in weight.items():
            print(f"{label:34} {raw / 1024:10.1f} {gz / 1024:10.1f} {elements if elements is not None else '':>9}")

        print(f"\n{'cold render (median of 15)':34} {'ms':>10}   (home ≤ 50 ms; incident, summary ≤ 15 ms)")
        for label, path in paths.items():
            print(f"{label:34} {cold_render_ms(page, path, 15):10.1f}", flush=True)

        print(f"\n{'write → visible':34} {'seconds':>10}   (live ≤ 1 s, published ≤ 2 s)")
        seen = write_to_visible(port, page.code, key, published_dir if publishing else None,
                                published_port if nginx_rows else None)  # fmt: skip
        for place, seconds in seen.items():
            print(f"{place:34} {'not in 15 s' if seconds is None else round(seconds, 3)!s:>10}")
        if publishing:
            publishing_report(worker_log, common.get("CACHE_REDIS_URL"), run, seen["published copy"] is not None)

        if cache_redis:
            cache_outage(port, cache_redis, gunicorn_log, args)

        if nginx_rows:
            # The page outlives the app: with gunicorn and the worker stopped, nginx still serves the copy.
            stop(worker)
            stop(ours)
            answers = {path: fetch(published_port, path)[0] for path, _ in nginx_rows.values()}
            print(f"\nwith the app stopped, nginx serves the published copy: {answers}")
    finally:
        for process in reversed(processes):
            stop(process)
        from django.db import connections

        connections.close_all()
        if database_url:
            admin_execute(database_url, f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)')
        if redis_url:
            import redis

            client = redis.Redis.from_url(redis_url)
            for key_name in client.scan_iter(match=f"*{run}*"):
                client.delete(key_name)


if __name__ == "__main__":
    main()
