"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port) that can refuse given recipients."""

import email
import logging
import socket
import threading
import time
from email.policy import default

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.attempts: list[str] = []
        self._refusals: dict[str, list] = {}
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def refuse(self, address: str, reply: str, times: int | None = None):
        """Answer RCPT TO for `address` with `reply` (e.g. "451 4.3.0 Try later"), `times` times or always."""
        with self._lock:
            self._refusals[address] = [reply, times]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            self.attempts.append(address)
            rule = self._refusals.get(address)
            if rule and (rule[1] is None or rule[1] > 0):
                if rule[1] is not None:
                    rule[1] -= 1
                return rule[0]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, timeout: float = 20.0) -> list:
        """Wait until at least `count` messages arrived; then return them all."""
        wait_until(lambda: len(self.messages) >= count, timeout, f"{count} messages (got {len(self.messages)})")
        return list(self.messages)


def wait_until(condition, timeout: float = 20.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
