"""`make run`: the web server, a Celery worker and Celery beat, supervised together.

    python -m statuspage.embedded --host 127.0.0.1 --port 8000

Without REDIS_URL the worker and beat talk through the embedded broker (kombu's filesystem transport in
EMBEDDED_DIR, see settings.py), so scheduled work runs with no service installed; with REDIS_URL they use Redis.
Links follow the address: unless SITE_URL is set, it is http://HOST:PORT (the machine's name or address when
HOST is a wildcard such as 0.0.0.0, which no browser can reach: see link_host), and a wildcard bind answers to
any host name unless ALLOWED_HOSTS is set, so other machines never get 400 Bad Request.

Ctrl-C (SIGINT) or SIGTERM stops all three (a second Ctrl-C kills them); if one of them exits, the others are
stopped too. Each runs in its own process group: the stop signal reaches runserver's reloader child as Ctrl-C in
a terminal would, and the last resort (SIGKILL after a grace period) leaves no pool process behind.
"""

import argparse
import contextlib
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}
GRACE_SECONDS = 15


def _not_loopback(name: str) -> bool:
    """Whether `name` resolves here to an address that is not this machine's loopback."""
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return any(not ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def primary_address() -> str | None:
    """The address this machine uses to reach other networks (connecting a UDP socket sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only the route is looked up
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if ipaddress.ip_address(address).is_loopback or address == "0.0.0.0" else address


def link_host(host: str) -> str:
    """The host that links should carry for a server bound to `host`.

    A wildcard bind (0.0.0.0) is served to other machines: the machine's name when it resolves to an address
    they can reach, else its primary address (a name in /etc/hosts as 127.0.1.1 would send them to themselves).
    """
    if host in WILDCARD_HOSTS:
        for name in dict.fromkeys([socket.getfqdn(), socket.gethostname()]):
            if name and not name.startswith("localhost") and _not_loopback(name):
                return name
        return primary_address() or socket.gethostname() or "localhost"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def site_environment(environ: dict[str, str], host: str, port: int) -> dict[str, str]:
    """The environment of the three processes: SITE_URL and ALLOWED_HOSTS follow HOST and PORT unless set."""
    env = dict(environ)
    if not env.get("SITE_URL", "").strip():
        env["SITE_URL"] = f"http://{link_host(host)}:{port}"
    if host in WILDCARD_HOSTS and not env.get("ALLOWED_HOSTS", "").strip():
        # Served on every interface for trying it out: answer whatever name or address a visitor uses.
        env["ALLOWED_HOSTS"] = "*"
    return env


def commands(host: str, port: int, *, reload: bool = True) -> dict[str, list[str]]:
    python = sys.executable
    bind = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    web = [python, "manage.py", "runserver", bind] + ([] if reload else ["--noreload"])
    celery = [python, "-m", "celery", "-A", "statuspage"]
    return {
        "web": web,
        # Two pool processes are plenty here; gossip and mingle only matter between several workers.
        "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--without-gossip", "--without-mingle"],
        "beat": [*celery, "beat", "--loglevel=INFO"],
    }


class Supervisor:
    def __init__(self, cmds: dict[str, list[str]], env: dict[str, str]):
        self.cmds = cmds
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = 0

    def _signal(self, signum, frame) -> None:
        self.stopping += 1
        if self.stopping > 1:
            self._send_all(signal.SIGKILL)

    def _send_all(self, signum: int) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signum)

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._signal)
        for name, cmd in self.cmds.items():
            self.procs[name] = subprocess.Popen(
                cmd, cwd=BASE_DIR, env=self.env, stdin=subprocess.DEVNULL, process_group=0
            )
        started = ", ".join(f"{name} pid {proc.pid}" for name, proc in self.procs.items())
        print(f"statuspage: {started}; links use {self.env['SITE_URL']}; Ctrl-C stops all.", flush=True)
        status = 0
        while not self.stopping:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    print(f"statuspage: {name} exited with code {proc.returncode}; stopping the others.", flush=True)
                    status = proc.returncode or 1
                    self.stopping = 1
                    break
            time.sleep(0.2)
        return self.stop(status)

    def stop(self, status: int) -> int:
        # What Ctrl-C does to a process group in a terminal: runserver and its reloader child exit, the worker
        # shuts down warm (its pool processes ignore SIGINT and finish their task), beat exits.
        self._send_all(signal.SIGINT)
        deadline = time.monotonic() + GRACE_SECONDS
        while any(proc.poll() is None for proc in self.procs.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        self._send_all(signal.SIGKILL)  # what is left (and any pool or reloader child left in a group)
        for proc in self.procs.values():
            proc.wait()
        print("statuspage: stopped.", flush=True)
        return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--noreload", action="store_true", help="do not restart the web server on code changes")
    args = parser.parse_args(argv)
    env = site_environment(dict(os.environ), args.host, args.port)
    return Supervisor(commands(args.host, args.port, reload=not args.noreload), env).run()


if __name__ == "__main__":
    sys.exit(main())
