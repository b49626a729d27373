"""Endpoint channels: a JSON POST to the subscriber's URL (webhooks, and Slack, Teams and Discord incoming hooks).

One urllib3 pool per checked address for the chunk (keep-alive across its messages; a window of POSTs to
different subscribers goes out at once from a few threads, which touch no database), WEBHOOK_TIMEOUT seconds
for the whole exchange, no redirect followed, no retry here (the outbox retries with backoff). 2xx is success;
anything else, a refused address, a timeout or a reset is a failure that counts towards the subscriber's
quarantine. 429 carries the service's Retry-After (Slack, Discord), which the retry waits at least.
"""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from notifications import conf
from notifications.channels.base import Channel, ChannelError, Sending
from notifications.endpoints import EndpointRefused, resolve

MAX_ANSWER = 64 * 1024  # bytes of an answer read before the connection is given up rather than drained
USER_AGENT = "statuspage-webhooks/1"


@dataclass(frozen=True, slots=True)
class EndpointMessage:
    url: str
    body: bytes
    headers: dict = field(default_factory=dict)


class EndpointError(ChannelError):
    """A failed POST: counts towards the quarantine; `retry_after` is the service's own wait, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), 3600.0) if value else None
    except ValueError:
        return None


class WebhookChannel(Channel):
    kind = "webhook"
    needs = ("endpoint",)

    def __init__(self):
        self.pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
        self.timeout = urllib3.Timeout(total=float(getattr(settings, "WEBHOOK_TIMEOUT", 30)))
        self.lock = threading.Lock()
        self.threads: ThreadPoolExecutor | None = None

    def start_many(self, messages: list) -> Sending:
        """The window's POSTs in the background, so the send loop checks the next window meanwhile: one thread
        per endpoint host (its messages in turn over one kept-alive connection), the hosts at once. The threads
        touch no database."""
        by_host: dict[str, list[int]] = {}
        for index, message in enumerate(messages):
            by_host.setdefault(urlsplit(message.url).netloc, []).append(index)
        if self.threads is None:
            self.threads = ThreadPoolExecutor(max_workers=conf.endpoint_window(), thread_name_prefix="webhook")
        futures = [
            (indexes, self.threads.submit(self.send_many, [messages[i] for i in indexes]))
            for indexes in by_host.values()
        ]

        def collect() -> list[Exception | None]:
            results: list[Exception | None] = [None] * len(messages)
            for indexes, future in futures:
                error = future.exception()
                for position, index in enumerate(indexes):
                    results[index] = error if error is not None else future.result()[position]
            return results

        return Sending(done=False, collect=collect)

    def _pool(self, target):
        key = (target.scheme, target.address, target.port, target.host)
        with self.lock:
            pool = self.pools.get(key)
            if pool is None:
                pool = self.pools[key] = self._new_pool(target)
        return pool

    def _new_pool(self, target):
        options = {"maxsize": conf.endpoint_window(), "timeout": self.timeout, "retries": False}
        if target.scheme == "https":
            # Connect to the checked address; the name is still the one TLS verifies.
            options.update(server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED")
            return urllib3.HTTPSConnectionPool(target.address, target.port, **options)
        return urllib3.HTTPConnectionPool(target.address, target.port, **options)

    def close(self) -> None:
        if self.threads is not None:
            self.threads.shutdown(wait=True)
            self.threads = None
        for pool in self.pools.values():
            with contextlib.suppress(Exception):
                pool.close()
        self.pools.clear()

    def send(self, message: EndpointMessage) -> None:
        try:
            target = resolve(message.url)
        except EndpointRefused as exc:
            raise EndpointError(f"refused: {exc}") from exc
        default_port = 443 if target.scheme == "https" else 80
        host = target.host if target.port == default_port else f"{target.host}:{target.port}"
        if ":" in target.host:  # an IPv6 literal
            host = f"[{target.host}]" if target.port == default_port else f"[{target.host}]:{target.port}"
        headers = {
            "Host": host,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **message.headers,
        }
        try:
            response = self._pool(target).urlopen(
                "POST",
                target.path,
                body=message.body,
                headers=headers,
                redirect=False,
                retries=False,
                timeout=self.timeout,
                preload_content=False,
                assert_same_host=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise EndpointError(f"connection: {exc}") from exc
        try:
            with contextlib.suppress(urllib3.exceptions.HTTPError, OSError):
                response.read(MAX_ANSWER)
        finally:
            if response.isclosed() or response.length_remaining == 0:
                response.release_conn()
            else:
                response.close()  # a long answer: drop the connection rather than read it all
        status = response.status
        if 200 <= status < 300:
            return
        if 300 <= status < 400:
            raise EndpointError(f"HTTP {status}: a redirect (to {response.headers.get('Location', '?')}) is a failure")
        raise EndpointError(f"HTTP {status}", retry_after=_retry_after(response.headers.get("Retry-After")))
