"""Endpoint channels: a JSON POST to the subscriber's URL (webhooks, and Slack, Teams and Discord incoming hooks).

One urllib3 pool per checked address for the chunk (keep-alive across its messages), WEBHOOK_TIMEOUT seconds
for the whole exchange, no redirect followed, no retry here (the outbox retries with backoff). 2xx is success;
anything else, a refused address, a timeout or a reset is a failure that counts towards the subscriber's
quarantine. 429 carries the service's Retry-After (Slack, Discord), which the retry waits at least.
"""

import contextlib
from dataclasses import dataclass, field

import urllib3
from django.conf import settings

from notifications.channels.base import Channel, ChannelError
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

    def _pool(self, target):
        key = (target.scheme, target.address, target.port, target.host)
        pool = self.pools.get(key)
        if pool is None:
            options = {"maxsize": 1, "timeout": self.timeout, "retries": False}
            if target.scheme == "https":
                # Connect to the checked address; the name is still the one TLS verifies.
                options.update(server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED")
                pool = urllib3.HTTPSConnectionPool(target.address, target.port, **options)
            else:
                pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
            self.pools[key] = pool
        return pool

    def close(self) -> None:
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
