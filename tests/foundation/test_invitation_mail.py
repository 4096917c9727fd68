"""Invitation e-mails through stdlib smtplib against a local SMTP server (tests/support/
smtp_server.py; aiosmtpd is not installed): STARTTLS with a verified certificate, AUTH only
over TLS, the link in the message, and failures in words that never undo the invitation."""

from __future__ import annotations

import ssl

import pytest

from switchboard.invitations import mail
from switchboard.settings import Settings
from tests.support.smtp_server import SmtpServer

LINK = "https://app.example.test/invite/" + "0" * 32 + "." + "A" * 43


def smtp_settings(server: SmtpServer, **extra) -> Settings:
    values = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_FROM": "invites@switchboard.test",
              "SMTP_TIMEOUT_SECONDS": 5, **extra}
    return Settings(**values)


async def test_mail_goes_over_starttls_with_the_link() -> None:
    with SmtpServer() as server:
        s = smtp_settings(server, SMTP_USERNAME="mailer", SMTP_PASSWORD="s3cret-smtp-password")
        reason = await mail.mail_invitation(to="new@example.test", organization="Bright Smiles", role="admin",
                                            link=LINK, invited_by="owner@example.test", expires="2026-12-10 16:00 UTC",
                                            settings=s, tls_context=server.client_tls_context())
        assert reason is None
        assert server.logins == [("mailer", "s3cret-smtp-password", True)]  # only ever over TLS
        (got,) = server.messages
        assert got.encrypted and got.rcpt_to == ["new@example.test"] and got.mail_from == "invites@switchboard.test"
        msg = got.message
        assert msg["Subject"] == "You are invited to Bright Smiles on Switchboard"
        assert msg["To"] == "new@example.test"
        body = msg.get_payload(decode=True).decode()
        assert LINK in body and "as admin" in body and "new@example.test" in body and "2026-12-10" in body


async def test_an_untrusted_certificate_is_refused_in_words() -> None:
    with SmtpServer() as server:
        reason = await mail.mail_invitation(to="new@example.test", organization="Org", role="member", link=LINK,
                                            settings=smtp_settings(server, SMTP_USERNAME="u", SMTP_PASSWORD="p"))
        assert reason and "TLS" in reason
        assert server.messages == [] and server.logins == []


async def test_no_password_over_a_clear_connection() -> None:
    with SmtpServer(starttls=False) as server:
        s = smtp_settings(server, SMTP_STARTTLS=False, SMTP_USERNAME="u", SMTP_PASSWORD="p")
        reason = await mail.mail_invitation(to="a@example.test", organization="Org", role="member", link=LINK, settings=s)
        assert "not encrypted" in reason and server.logins == [] and server.messages == []
        # Without credentials a relay on a trusted network may be used in clear (a local relay).
        s = smtp_settings(server, SMTP_STARTTLS=False)
        assert await mail.mail_invitation(to="a@example.test", organization="Org", role="member", link=LINK,
                                          settings=s) is None
        assert len(server.messages) == 1 and not server.messages[0].encrypted
    with SmtpServer(starttls=False) as server:  # STARTTLS asked for but not offered
        reason = await mail.mail_invitation(to="a@example.test", organization="Org", role="member", link=LINK,
                                            settings=smtp_settings(server))
        assert "does not offer STARTTLS" in reason and server.messages == []


async def test_unreachable_server_and_no_settings() -> None:
    with SmtpServer() as server:
        port = server.port
    reason = await mail.mail_invitation(to="a@example.test", organization="Org", role="member", link=LINK,
                                        settings=Settings(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="x@y.test",
                                                          SMTP_TIMEOUT_SECONDS=2))
    assert reason and "could not be reached" in reason
    assert not mail.mail_configured(Settings())
    assert await mail.mail_invitation(to="a@example.test", organization="Org", role="member", link=LINK,
                                      settings=Settings()) is None
    with pytest.raises(mail.MailError, match="SMTP_FROM"):
        mail.send(mail.invitation_message(sender="", to="a@example.test", organization="O", role="member", link=LINK),
                  Settings(SMTP_HOST="127.0.0.1"), tls_context=ssl.create_default_context())
