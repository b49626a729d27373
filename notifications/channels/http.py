"""Kept-alive HTTP(S) connections to one checked address, for endpoint POSTs (the standard library's http.client).

A POST through urllib3 cost the worker about twice the CPU of the same POST through http.client (its own
response and header objects, the body sent in a second system call): the send loop is CPU-bound on a fast
endpoint, so the worker posts with http.client itself. What urllib3 gave is kept: the connection goes to the
address the SSRF guard checked while the URL's name stays the one in the Host header, in TLS's SNI and in the
certificate check (CERT_REQUIRED, the system's CAs); an idle connection the server closed is not reused; an
answer longer than `MAX_ANSWER` is not read to its end (the connection is dropped instead).
"""

import contextlib
import http.client
import select
import socket
import ssl
import threading
import time
from collections import deque

from notifications.endpoints import Target

MAX_ANSWER = 64 * 1024  # bytes of an answer read before the connection is given up rather than drained
TLS = ssl.create_default_context()  # certificate and host name checked


class Answer:
    """What the send loop reads of an answer."""

    __slots__ = ("status", "location", "retry_after")

    def __init__(self, response: http.client.HTTPResponse):
        self.status = response.status
        self.location = response.getheader("Location")
        self.retry_after = response.getheader("Retry-After")


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=TLS)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    address = target.address

    def connect_to_the_checked_address(where, *args, **kwargs):
        return socket.create_connection((address, where[1]), *args, **kwargs)

    connection._create_connection = connect_to_the_checked_address  # http.client's own hook for the socket
    return connection


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle connection the server closed (or wrote to unasked) is not reused."""
    if connection.sock is None:
        return True
    poll = select.poll()
    poll.register(connection.sock, select.POLLIN)
    return bool(poll.poll(0))


class Deadlines:
    """Cuts a connection whose exchange outlives its deadline: the socket's own timeout bounds each read, and an
    endpoint answering a byte at a time could stretch one POST far beyond WEBHOOK_TIMEOUT. One thread per
    process, asleep until the nearest deadline."""

    def __init__(self):
        self.pending: dict[int, tuple[float, http.client.HTTPConnection]] = {}
        self.cut: set[int] = set()
        self.changed = threading.Condition()
        self.thread: threading.Thread | None = None
        self.wake_at = 0.0  # when the thread wakes next: a later deadline needs no wake-up (the usual case)

    def watch(self, connection, deadline: float) -> None:
        with self.changed:
            self.pending[id(connection)] = (deadline, connection)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="webhook-deadlines", daemon=True)
                self.thread.start()
            if deadline < self.wake_at:
                self.changed.notify()

    def done(self, connection) -> bool:
        """Stop watching; True if the deadline cut the exchange."""
        with self.changed:
            self.pending.pop(id(connection), None)
            if id(connection) in self.cut:
                self.cut.discard(id(connection))
                return True
            return False

    def _run(self) -> None:
        with self.changed:
            while True:
                now = time.monotonic()
                for key, (deadline, connection) in list(self.pending.items()):
                    if deadline <= now:
                        del self.pending[key]
                        self.cut.add(key)
                        with contextlib.suppress(OSError, AttributeError):
                            connection.sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
                self.wake_at = min((deadline for deadline, _ in self.pending.values()), default=now + 60)
                self.changed.wait(max(self.wake_at - now, 0.01))


DEADLINES = Deadlines()


class Connections:
    """Up to `size` idle connections to one target, reused one request at a time (thread-safe)."""

    def __init__(self, target: Target, size: int, timeout: float):
        self.target, self.size, self.timeout = target, size, timeout
        self.idle: deque = deque()
        self.lock = threading.Lock()

    def post(self, path: str, body: bytes, headers: dict) -> Answer:
        """POST and read the answer (at most MAX_ANSWER bytes of it); OSError or http.client.HTTPException on a
        connection failure (TimeoutError when the endpoint is too slow)."""
        connection = self._take()
        # No second try here, even on a kept-alive connection the server closed as the request went out: a POST is
        # not retried automatically (RFC 9110, 9.2.2); the outbox tries again later.
        response = self._exchange(connection, path, body, headers)
        answer = Answer(response)
        if response.isclosed() and connection.sock is not None:
            self._give(connection)  # read to its end, and the server keeps the connection open
        else:
            response.close()
            connection.close()
        return answer

    def _exchange(self, connection, path: str, body: bytes, headers: dict) -> http.client.HTTPResponse:
        """The whole exchange within the timeout (connect, send, answer), not only each read."""
        DEADLINES.watch(connection, time.monotonic() + self.timeout)  # the connect has its own timeout too
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_ANSWER)
        except BaseException as exc:
            connection.close()
            if DEADLINES.done(connection):
                raise TimeoutError(f"timed out: no complete answer within {self.timeout:g} s") from exc
            raise
        if DEADLINES.done(connection):  # cut: what was read may look whole (an end of file ends the headers)
            connection.close()
            raise TimeoutError(f"timed out: no complete answer within {self.timeout:g} s")
        return response

    def _take(self) -> http.client.HTTPConnection:
        """A kept-alive connection still open, or a new one."""
        while True:
            with self.lock:
                connection = self.idle.pop() if self.idle else None
            if connection is None:
                return _connection(self.target, self.timeout)
            if not _dropped(connection):
                return connection
            connection.close()

    def _give(self, connection: http.client.HTTPConnection) -> None:
        with self.lock:
            if len(self.idle) < self.size:
                self.idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self.lock:
            idle, self.idle = list(self.idle), deque()
        for connection in idle:
            connection.close()
