"""Delivery channels behind one interface (healthchecks' hc/api/transports.py is the model).

A channel sends one message to one subscriber and either returns or raises ChannelError, whose
`permanent` flag says whether trying again can help. The send loop (notifications/tasks.py) knows nothing
else about a channel: it renders once per notification, asks the channel for each subscriber's message,
and records the outcome. Each channel declares the subscriber fields it needs (`needs`), so a subscriber
without them is failed at once instead of being sent a broken message.

Email is the first channel; webhooks and chat channels (Slack, Teams, Discord) are added beside it.
"""

from notifications.channels.base import Channel, ChannelError
from notifications.channels.email import EmailChannel

CHANNELS: dict[str, type[Channel]] = {EmailChannel.kind: EmailChannel}


def channel_for(subscriber) -> type[Channel]:
    """The channel class of a subscriber (email for all of them, until subscribers choose one)."""
    return CHANNELS[getattr(subscriber, "channel", EmailChannel.kind)]


__all__ = ["CHANNELS", "Channel", "ChannelError", "EmailChannel", "channel_for"]
