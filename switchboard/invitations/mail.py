"""Invitation e-mails over SMTP (stdlib `smtplib` and `email`), when SMTP_HOST is set.

Without SMTP settings nothing is sent and the admin copies the link from the members page.
With them: STARTTLS (SMTP_STARTTLS, default on) or implicit TLS on port 465, the certificate
verified against the system's CAs; a user name and password are only ever sent over TLS. A
failure to send never undoes the invitation: the caller gets the reason in words and the link
is still shown.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from switchboard.settings import Settings, get_settings
from switchboard.errors import Unavailable


class MailError(Unavailable, RuntimeError):
    """The invitation could not be mailed; the message says why (never a password)."""


def mail_configured(settings: Settings | None = None) -> bool:
    return bool((settings or get_settings()).smtp_host)


def invitation_message(*, sender: str, to: str, organization: str, role: str, link: str,
                       invited_by: str | None = None, expires: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = f"You are invited to {organization} on Switchboard"
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    who = f"{invited_by} invites you" if invited_by else "You are invited"
    until = f" The link works once, until {expires}." if expires else " The link works once."
    msg.set_content(
        f"{who} to join {organization} on Switchboard as {role}.\n\n"
        f"Open this link to accept (sign up or sign in with {to}):\n\n{link}\n\n{until.strip()}\n"
        "If you did not expect this, ignore this e-mail.\n"
    )
    return msg


def send(msg: EmailMessage, settings: Settings | None = None, *, tls_context: ssl.SSLContext | None = None) -> None:
    """Send one message with the SMTP settings (blocking; see `send_async`)."""
    s = settings or get_settings()
    if not s.smtp_host:
        raise MailError("no SMTP_HOST is set: copy the link instead")
    if not s.smtp_from:
        raise MailError("SMTP_FROM is not set: the invitation was not mailed")
    context = tls_context or ssl.create_default_context()
    implicit_tls = s.smtp_port == 465
    try:
        if implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                                    context=context)
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        with client:
            client.ehlo()
            encrypted = implicit_tls
            if not implicit_tls and s.smtp_starttls:
                client.starttls(context=context)
                client.ehlo()
                encrypted = True
            if s.smtp_username:
                if not encrypted:
                    raise MailError("SMTP_USERNAME is set but the connection is not encrypted: "
                                    "enable SMTP_STARTTLS or use port 465")
                client.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
            client.send_message(msg)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError:
        raise MailError("the mail server refused SMTP_USERNAME / SMTP_PASSWORD") from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"the mail server at {s.smtp_host}:{s.smtp_port} does not offer STARTTLS") from None
    except smtplib.SMTPRecipientsRefused:
        raise MailError(f"the mail server refused the address {msg['To']}") from None
    except ssl.SSLError as exc:
        raise MailError(f"TLS with {s.smtp_host}:{s.smtp_port} failed ({exc.reason or 'certificate'})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"the mail server at {s.smtp_host}:{s.smtp_port} could not be reached or refused the "
                        f"message ({type(exc).__name__})") from None


async def send_async(msg: EmailMessage, settings: Settings | None = None, *,
                     tls_context: ssl.SSLContext | None = None) -> None:
    await asyncio.to_thread(send, msg, settings, tls_context=tls_context)


async def mail_invitation(*, to: str, organization: str, role: str, link: str, invited_by: str | None = None,
                          expires: str = "", settings: Settings | None = None,
                          tls_context: ssl.SSLContext | None = None) -> str | None:
    """Mail the invitation when SMTP is configured. Returns None when sent (or when mail is
    not configured: `mail_configured()` tells which), else why it was not sent, in words."""
    s = settings or get_settings()
    if not s.smtp_host:
        return None
    sender = s.smtp_from or ""
    msg = invitation_message(sender=formataddr(("Switchboard", sender)) if sender else "", to=to,
                             organization=organization, role=role, link=link, invited_by=invited_by, expires=expires)
    try:
        await send_async(msg, s, tls_context=tls_context)
    except MailError as exc:
        return str(exc)
    return None
