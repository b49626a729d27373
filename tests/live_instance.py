"""Another instance of this project as a real server (gunicorn) in a subprocess, with its own SQLite file
database and SECRET_KEY: the source of the import round trip and the target of the real clients' calls.
Its process group is killed at the end whatever happens; every wait is bounded."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = {"DATABASE_URL", "REDIS_URL", "SITE_URL", "ALLOWED_HOSTS", "TEST_DATABASE_NAME", "EMAIL_HOST",
            "PUBLISH_TARGET", "CACHE_KEY_PREFIX"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    def __init__(self, base: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = base / "server.log"
        self.env = {k: v for k, v in os.environ.items() if k not in LEFT_OUT}
        self.env.update(
            DATABASE_URL=f"sqlite:///{base / 'db.sqlite3'}", SECRET_KEY="instance-a-secret",
            EMBEDDED_DIR=str(base / "var"), DJANGO_SETTINGS_MODULE="statuspage.settings", PYTHONUNBUFFERED="1",
            # Links as the test's own instance writes them, so that both answer the same documents.
            SITE_URL=settings.SITE_URL, API_RATE_LIMIT="100000/minute",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )  # fmt: skip
        self.proc = None

    def run(self, *args, timeout=240) -> str:
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def fill(self, script: str) -> dict:
        """Runs `script` (Python, after django.setup()) in the instance; its last line printed is JSON."""
        return json.loads(self.run("-c", "import django\ndjango.setup()\n" + script).strip().splitlines()[-1])

    def start(self) -> None:
        self.run("manage.py", "migrate", "--noinput")

    def serve(self) -> None:
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "statuspage.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "1",
                 "--timeout", "120"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/api/v2/status.json", timeout=5).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError("the instance did not come up in 60 s:\n" + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.proc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
