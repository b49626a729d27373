"""Helpers shared by the benchmarks: free ports, throwaway PostgreSQL databases, processes, wrk."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def admin_execute(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres").replace("postgresql://", "postgres://"), autocommit=True) as c:
        c.execute(sql)


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def stop(process: subprocess.Popen | None, timeout: float = 15.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if not path:
        sys.exit(f"{name} is missing: install Debian's package with `apt-get install {package}`")
    return path


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_run(url: str, *, seconds: int, connections: int, headers: dict | None = None) -> dict:
    """What wrk measured: requests/s, the slowest answer (ms), error answers and socket errors (timeouts: 2 s)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "2s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    latency = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\b", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "max_ms": float(latency.group(1)) * UNITS[latency.group(2)] if latency else float("nan"),
        "errors": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
        "output": out,
    }


def wrk(url: str, *, seconds: int, connections: int, headers: dict | None = None) -> float:
    """Requests per second that wrk measured; exits if any answer was not 2xx or 3xx."""
    result = wrk_run(url, seconds=seconds, connections=connections, headers=headers)
    if result["errors"] or result["socket_errors"]:
        raise SystemExit(f"wrk saw errors from {url}:\n{result['output']}")
    return result["rps"]


def environment(**overrides) -> dict:
    env = {**os.environ, **{k: str(v) for k, v in overrides.items() if v is not None}}
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
    return env
