"""A tiny SMTP server for tests (aiosmtpd is not installed here): one thread per connection,
enough of RFC 5321 for smtplib — EHLO, STARTTLS (RFC 3207) with a self-signed certificate for
127.0.0.1, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It records each message, the
credentials it was given and whether the connection was encrypted when they were."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    encrypted: bool

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class SmtpServer:
    host: str = "127.0.0.1"
    starttls: bool = True
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)  # user, password, encrypted
    port: int = 0
    cert_file: str = ""

    def __post_init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="sb-smtp-")
        self.cert_file, key_file = _self_signed(Path(self._dir))
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(self.cert_file, key_file)
        self._sock = socket.create_server((self.host, 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def client_tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and checks the host name)."""
        return ssl.create_default_context(cafile=self.cert_file)

    def __enter__(self) -> "SmtpServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        encrypted = False
        reader = conn.makefile("rb")

        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        say("220 test-smtp ESMTP ready")
        mail_from, rcpt = "", []
        try:
            while True:
                raw = reader.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                arg = line[len(verb):].strip()
                if verb in ("EHLO", "HELO"):
                    lines = ["test-smtp", "AUTH PLAIN", "8BITMIME"]
                    if self.starttls and not encrypted:
                        lines.append("STARTTLS")
                    for i, text in enumerate(lines):
                        say(f"250{'-' if i < len(lines) - 1 else ' '}{text}")
                elif verb == "STARTTLS" and self.starttls and not encrypted:
                    say("220 go ahead")
                    conn = self._tls.wrap_socket(conn, server_side=True)
                    reader = conn.makefile("rb")
                    encrypted = True
                elif verb == "AUTH":
                    mech, _, blob = arg.partition(" ")
                    if mech.upper() != "PLAIN":
                        say("504 only PLAIN")
                        continue
                    if not blob:
                        say("334 ")
                        blob = reader.readline().decode().strip()
                    _, user, password = base64.b64decode(blob).decode().split("\0")
                    self.logins.append((user, password, encrypted))
                    say("235 authenticated")
                elif verb == "MAIL":
                    mail_from, rcpt = arg.partition(":")[2].strip().split(" ")[0].strip("<>"), []
                    say("250 ok")
                elif verb == "RCPT":
                    rcpt.append(arg.partition(":")[2].strip().strip("<>"))
                    say("250 ok")
                elif verb == "DATA":
                    say("354 end with <CRLF>.<CRLF>")
                    chunks = []
                    while True:
                        chunk = reader.readline()
                        if chunk in (b".\r\n", b""):
                            break
                        chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    self.messages.append(Received(mail_from, rcpt, b"".join(chunks), encrypted))
                    say("250 queued")
                elif verb in ("RSET", "NOOP"):
                    say("250 ok")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("502 not implemented")
        except (OSError, ssl.SSLError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass


def _self_signed(directory: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)
