"""The channel interface: one error type, one send per message, a session per chunk."""

from celery.exceptions import SoftTimeLimitExceeded


class ChannelError(Exception):
    """A message was not delivered.

    permanent: trying again cannot help (the address does not exist, the endpoint refuses the message).
    bad_address: the subscriber's address itself is refused, so the subscriber is quarantined.
    session_lost: the connection is gone; the rest of the chunk waits for a later attempt too.
    """

    def __init__(self, message: str, *, permanent: bool = False, bad_address: bool = False, session_lost=False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.bad_address = bad_address
        self.session_lost = session_lost

    def __str__(self):
        return self.message


class Channel:
    """Sends the messages of one chunk; `open` and `close` bracket the chunk (one connection for all)."""

    kind: str = ""
    # Subscriber fields this channel needs, all non-empty, to deliver (e.g. ("email",), ("endpoint",)).
    needs: tuple[str, ...] = ()

    @classmethod
    def can_reach(cls, subscriber) -> bool:
        return all(getattr(subscriber, field, None) for field in cls.needs)

    def open(self) -> None:
        """Open the session (raise ChannelError if it cannot be opened)."""

    def close(self) -> None:
        """Close the session; never raises."""

    def send(self, message) -> None:
        """Deliver one message built for this channel, or raise ChannelError."""
        raise NotImplementedError

    def send_many(self, messages: list) -> list[Exception | None]:
        """Send each message in turn; for each, None or the exception it raised (SoftTimeLimitExceeded propagates)."""
        results: list[Exception | None] = []
        for message in messages:
            try:
                self.send(message)
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:  # recorded per message by the send loop
                results.append(exc)
            else:
                results.append(None)
        return results

    def start_many(self, messages: list) -> "Sending":
        """Start sending the messages; the send loop collects the outcomes later. Here: at once, synchronously
        (so a synchronous channel's outcomes are recorded before the next check, as for one message)."""
        results = self.send_many(messages)
        return Sending(done=True, collect=lambda: results)

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()


class Sending:
    """Messages being sent: `collect()` waits and gives each one's outcome (None, or its exception)."""

    def __init__(self, *, done: bool, collect):
        self.done = done
        self.collect = collect
