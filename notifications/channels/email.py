"""The email channel: Django's email backend (SMTP in production), one connection per chunk."""

import contextlib
import smtplib

from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from notifications.channels.base import Channel, ChannelError
from notifications.emails import RawEmail


def smtp_code(error: smtplib.SMTPException) -> int | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return max(codes) if codes else None
    return getattr(error, "smtp_code", None)


class EmailChannel(Channel):
    kind = "email"
    needs = ("email",)

    def __init__(self):
        self.connection = get_connection(fail_silently=False)
        # Over SMTP a message encoded once can be sent as bytes (RawEmail); other backends get EmailMessages.
        self.sends_raw = isinstance(self.connection, SmtpBackend)

    def open(self) -> None:
        try:
            self.connection.open()
        except Exception as exc:  # refused, timed out, TLS or authentication failed
            raise ChannelError(f"connection: {exc}", session_lost=True) from exc

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection
            self.connection.close()

    def send(self, message) -> None:
        """Send one EmailMessage (or RawEmail); SMTP replies become ChannelErrors (5xx permanent, 4xx not)."""
        try:
            if isinstance(message, RawEmail):
                self.connection.open()  # a no-op while the connection is open
                self.connection.connection.sendmail(message.from_email, [message.to], message.data)
            else:
                self.connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused as exc:
            code = smtp_code(exc)
            permanent = code is not None and code >= 500
            raise ChannelError(f"refused: {code} {exc.recipients}", permanent=permanent, bad_address=permanent) from exc
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
        except OSError as exc:  # SMTPServerDisconnected, timeouts, resets (after the SMTP replies above)
            raise ChannelError(f"connection: {exc}", session_lost=True) from exc
