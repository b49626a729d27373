"""Endpoint channels: a JSON POST to the subscriber's URL (webhooks, and Slack, Teams and Discord incoming hooks).

A window of messages (to different subscribers) goes out at once from a small thread pool (the threads touch
no database): each endpoint name resolved and checked once per window, then up to NOTIFICATIONS_ENDPOINT_PER_HOST
POSTs at once per host, over as many kept-alive connections to its checked address (channels/http.py), so one
slow host holds at most that many threads. A host that lets a POST time out gets no more of the window's
messages: they go back to the queue untried (the window waits one timeout for a hanging host, not one per
message). WEBHOOK_TIMEOUT seconds for the whole exchange, no redirect followed, no retry here (the outbox
retries with backoff). 2xx is success; anything else, a refused address, a timeout or a reset is a failure that
counts towards the subscriber's quarantine. 429 carries the service's Retry-After (Slack, Discord), which the
retry waits at least.
"""

import http.client
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from notifications import conf
from notifications.channels.base import Channel, ChannelError, Sending
from notifications.channels.http import Connections
from notifications.endpoints import EndpointRefused, Target, resolve

USER_AGENT = "statuspage-webhooks/1"


@dataclass(frozen=True, slots=True)
class EndpointMessage:
    url: str
    body: bytes
    headers: dict = field(default_factory=dict)


class EndpointError(ChannelError):
    """A failed POST: counts towards the quarantine; `retry_after` is the service's own wait, if it gave one.
    `untried`: not posted at all (its host hung earlier in the window): back to the queue, no failure counted."""

    def __init__(self, message: str, *, retry_after: float | None = None, untried: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.untried = untried


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), 3600.0) if value else None
    except ValueError:
        return None


class WebhookChannel(Channel):
    kind = "webhook"
    needs = ("endpoint",)

    def __init__(self):
        self.pools: dict[tuple, Connections] = {}
        self.timeout = float(getattr(settings, "WEBHOOK_TIMEOUT", 30))
        self.lock = threading.Lock()
        self.threads: ThreadPoolExecutor | None = None

    def start_many(self, messages: list) -> Sending:
        """The window's POSTs in the background, so the send loop checks the next window meanwhile: per host,
        `endpoint_per_host` lanes each taking the host's next message, all hosts' lanes on one thread pool."""
        results: list[Exception | None] = [None] * len(messages)
        checked: dict = {}  # this window's DNS answers and SSRF checks, per endpoint name
        by_host: dict[tuple, deque] = {}
        for index, message in enumerate(messages):
            try:
                target = resolve(message.url, checked)
            except EndpointRefused as exc:
                results[index] = EndpointError(f"refused: {exc}")
                continue
            host = (target.scheme, target.address, target.port, target.host)
            by_host.setdefault(host, deque()).append((index, target, message))
        if self.threads is None:
            self.threads = ThreadPoolExecutor(max_workers=conf.endpoint_threads(), thread_name_prefix="webhook")
        lanes = [
            self.threads.submit(self._lane, queue, results)
            for queue in by_host.values()
            for _ in range(min(conf.endpoint_per_host(), len(queue)))
        ]

        def collect() -> list[Exception | None]:
            for lane in lanes:
                lane.result()
            return results

        return Sending(done=False, collect=collect)

    def _lane(self, queue: deque, results: list) -> None:
        """Post the host's queued messages in turn (deque.popleft is thread-safe); after a timeout the host's
        rest is left untried."""
        while True:
            try:
                index, target, message = queue.popleft()
            except IndexError:
                return
            try:
                self._post(target, message)
            except EndpointError as exc:
                results[index] = exc
                if isinstance(exc.__cause__, TimeoutError):
                    self._untried(queue, results, target)
            except Exception as exc:  # noqa: BLE001 - recorded per message by the send loop
                results[index] = exc

    @staticmethod
    def _untried(queue: deque, results: list, target: Target) -> None:
        error = EndpointError(f"not sent: {target.host} timed out earlier in this window", untried=True)
        while True:
            try:
                index, _, _ = queue.popleft()
            except IndexError:
                return
            results[index] = error

    def _pool(self, target: Target) -> Connections:
        key = (target.scheme, target.address, target.port, target.host)
        with self.lock:
            pool = self.pools.get(key)
            if pool is None:
                pool = self.pools[key] = Connections(target, conf.endpoint_per_host(), self.timeout)
        return pool

    def close(self) -> None:
        if self.threads is not None:
            self.threads.shutdown(wait=True)
            self.threads = None
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()

    def send(self, message: EndpointMessage) -> None:
        try:
            target = resolve(message.url)
        except EndpointRefused as exc:
            raise EndpointError(f"refused: {exc}") from exc
        self._post(target, message)

    def _post(self, target: Target, message: EndpointMessage) -> None:
        """One POST (the Host header, from the URL's name, is http.client's)."""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **message.headers}
        try:
            answer = self._pool(target).post(target.path, message.body, headers)
        except (OSError, http.client.HTTPException) as exc:
            raise EndpointError(f"connection: {exc!r}") from exc
        status = answer.status
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise EndpointError(f"HTTP {status}: a redirect (to {answer.location or '?'}) is a failure")
        raise EndpointError(f"HTTP {status}", retry_after=_retry_after(answer.retry_after))
