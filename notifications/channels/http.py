"""Kept-alive HTTP(S) connections to one checked address, for endpoint POSTs (the standard library's http.client).

A POST through urllib3 cost the worker about twice the CPU of the same POST through http.client (its own
response and header objects, the body sent in a second system call): the send loop is CPU-bound on a fast
endpoint, so the worker posts with http.client itself. What urllib3 gave is kept: the connection goes to the
address the SSRF guard checked while the URL's name stays the one in the Host header, in TLS's SNI and in the
certificate check (CERT_REQUIRED, the system's CAs); an idle connection the server closed is not reused; an
answer longer than `MAX_ANSWER` is not read to its end (the connection is dropped instead); a request that meets a
kept-alive connection the server closed at that moment goes once more on a new one.
"""

import http.client
import select
import socket
import ssl
import threading
from collections import deque

from notifications.endpoints import Target

MAX_ANSWER = 64 * 1024  # bytes of an answer read before the connection is given up rather than drained
TLS = ssl.create_default_context()  # certificate and host name checked
# What a kept-alive connection the server has just closed gives (no answer at all).
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


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


class Connections:
    """Up to `size` idle connections to one target, reused one request at a time (thread-safe)."""

    def __init__(self, target: Target, size: int, timeout: float):
        self.target, self.size, self.timeout = target, size, timeout
        self.idle: deque = deque()
        self.lock = threading.Lock()

    def post(self, path: str, body: bytes, headers: dict) -> Answer:
        """POST and read the answer (at most MAX_ANSWER bytes of it); OSError or http.client.HTTPException on a
        connection failure (TimeoutError when the endpoint is too slow)."""
        connection, reused = self._take()
        try:
            response = self._exchange(connection, path, body, headers)
        except STALE:
            connection.close()
            if not reused:
                raise
            # The server closed the kept-alive connection as the request went out (its idle timeout): once more,
            # on a new connection, as HTTP clients do (RFC 9112, 9.3.1).
            connection = _connection(self.target, self.timeout)
            response = self._exchange(connection, path, body, headers)
        answer = Answer(response)
        if response.isclosed() and connection.sock is not None:
            self._give(connection)  # read to its end, and the server keeps the connection open
        else:
            response.close()
            connection.close()
        return answer

    @staticmethod
    def _exchange(connection, path: str, body: bytes, headers: dict) -> http.client.HTTPResponse:
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_ANSWER)
        except BaseException:
            connection.close()
            raise
        return response

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """A kept-alive connection still open (and True), or a new one."""
        while True:
            with self.lock:
                connection = self.idle.pop() if self.idle else None
            if connection is None:
                return _connection(self.target, self.timeout), False
            if not _dropped(connection):
                return connection, True
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
