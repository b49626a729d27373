"""Signed, expiring tokens for the confirm, manage and unsubscribe links (django.core.signing)."""

from django.core import signing

from notifications import conf

PURPOSES = ("confirm", "manage", "unsubscribe")


def make_token(subscriber, purpose: str) -> str:
    assert purpose in PURPOSES
    return signing.dumps(subscriber.code, salt=f"notifications.{purpose}", compress=False)


def read_token(token: str, purpose: str) -> str | None:
    """The subscriber code in a valid token, or None (bad signature, wrong purpose or expired)."""
    max_age = conf.confirm_max_age() if purpose == "confirm" else conf.link_max_age()
    try:
        return signing.loads(token, salt=f"notifications.{purpose}", max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
