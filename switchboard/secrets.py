"""Organisation secrets (provider API keys), encrypted with AES-256-GCM.

A key ring (`ENCRYPTION_KEYS = "kid:base64(32 bytes),kid:…"`) holds every key still in use: the
first encrypts, all decrypt, so a new key is introduced by prepending it and
`switchboard secrets rotate` re-encrypts every row under it. The associated data binds each
ciphertext to its (organisation, vendor) row: a ciphertext copied to another row fails
authentication instead of decrypting to another tenant's key.

The database only ever sees ciphertext and hints (last four characters). The caller picks the
scope: `db.as_user(claims)` (RLS lets only admins and owners touch `organization_secrets`) or
`db.as_service()` for trusted paths. Nothing raised here contains a plaintext.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from uuid import UUID

import psycopg
import typer
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from rich.console import Console

from switchboard.settings import ConfigurationError, get_settings
from switchboard.errors import Forbidden, Refused

NONCE_BYTES = 12
KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_VENDOR = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_FIELD = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SecretError(Refused):
    """Base of every error here. Messages name organisations, vendors and key ids only."""


class SecretDecryptionError(SecretError):
    """The ciphertext does not authenticate: tampered, copied from another row, or wrong key."""


class UnknownKeyError(SecretError):
    """The row was encrypted with a key id that is no longer in the key ring."""


class SecretPermissionError(Forbidden, SecretError, PermissionError):
    """The caller may not change this organisation's secrets (admins and owners only)."""


# ---------------------------------------------------------------------------------------
# Key ring
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # (kid, 32-byte key); the first encrypts

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigurationError("ENCRYPTION_KEYS is empty: give at least one kid:base64(32 bytes)")

    def __repr__(self) -> str:  # never print key material
        return f"KeyRing(kids={list(self.kids)})"

    __str__ = __repr__

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.keys)

    @property
    def primary_kid(self) -> str:
        return self.keys[0][0]

    def key(self, kid: str) -> bytes:
        for k, key in self.keys:
            if k == kid:
                return key
        raise UnknownKeyError(
            f"key id {kid!r} is not in ENCRYPTION_KEYS (known: {', '.join(self.kids)}); "
            "keep retired keys in the ring until `switchboard secrets rotate` has run"
        )

    @classmethod
    def parse(cls, spec: str) -> "KeyRing":
        """`"kid:base64,kid:base64"`. Errors name the entry's position and kid, never the key."""
        keys: list[tuple[str, bytes]] = []
        for position, entry in enumerate((e.strip() for e in spec.split(",")), start=1):
            if not entry:
                continue
            kid, sep, encoded = entry.partition(":")
            kid = kid.strip()
            if not sep or not _KID.match(kid):
                raise ConfigurationError(
                    f"ENCRYPTION_KEYS entry {position} is not 'kid:base64(32 bytes)' "
                    "(kid: letters, digits, '_', '-', '.')"
                )
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise ConfigurationError(f"ENCRYPTION_KEYS entry {position} ({kid}): key is not valid base64") from None
            if len(key) != KEY_BYTES:
                raise ConfigurationError(
                    f"ENCRYPTION_KEYS entry {position} ({kid}): key is {len(key)} bytes, AES-256 needs {KEY_BYTES}"
                )
            if any(k == kid for k, _ in keys):
                raise ConfigurationError(f"ENCRYPTION_KEYS: key id {kid!r} appears twice")
            keys.append((kid, key))
        return cls(tuple(keys))

    @classmethod
    def from_settings(cls) -> "KeyRing":
        return cls.parse(get_settings().resolved_encryption_keys())


def generate_key_entry(kid: str | None = None) -> str:
    """A new ring entry `kid:base64(32 random bytes)`."""
    kid = kid or "k" + datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    if not _KID.match(kid):
        raise ConfigurationError("key id: letters, digits, '_', '-', '.' only (at most 64)")
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


# ---------------------------------------------------------------------------------------
# Encryption
# ---------------------------------------------------------------------------------------
def associated_data(organization_id: UUID, vendor: str) -> bytes:
    return f"switchboard/organization_secrets/v1/{organization_id}/{vendor}".encode()


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes

    def __repr__(self) -> str:
        return f"Sealed(key_id={self.key_id!r}, {len(self.ciphertext)} bytes)"


def seal(ring: KeyRing, organization_id: UUID, vendor: str, values: dict[str, str]) -> Sealed:
    kid = ring.primary_kid
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(values, sort_keys=True, separators=(",", ":")).encode()
    ciphertext = AESGCM(ring.key(kid)).encrypt(nonce, plaintext, associated_data(organization_id, vendor))
    return Sealed(kid, nonce, ciphertext)


def unseal(ring: KeyRing, organization_id: UUID, vendor: str, sealed: Sealed) -> dict[str, str]:
    key = ring.key(sealed.key_id)
    try:
        plaintext = AESGCM(key).decrypt(
            bytes(sealed.nonce), bytes(sealed.ciphertext), associated_data(organization_id, vendor)
        )
    except InvalidTag:
        raise SecretDecryptionError(
            f"the {vendor} secret of organisation {organization_id} does not decrypt: it was altered, "
            f"copied from another row, or key {sealed.key_id!r} is not the key it was sealed with"
        ) from None
    return json.loads(plaintext)


# ---------------------------------------------------------------------------------------
# Masking (logs, reprs, hints)
# ---------------------------------------------------------------------------------------
def hint(value: str) -> str:
    """What may be shown of a secret: its last four characters, and only when it is long enough
    that four characters give nothing useful away."""
    return "…" + value[-4:] if len(value) >= 12 else "…"


def mask(value: str | None) -> str:
    """For logs and reprs: `sk-…a1b2`-style, never more than the hint."""
    if not value:
        return ""
    return hint(value)


def mask_mapping(values: dict[str, str]) -> dict[str, str]:
    return {k: mask(v) for k, v in values.items()}


def _validate(vendor: str, values: dict[str, str]) -> None:
    if not _VENDOR.match(vendor or ""):
        raise SecretError(f"vendor {vendor!r} is not a valid name (lower-case letters, digits, '_', '-')")
    if not values:
        raise SecretError(f"no values given for the {vendor} secret")
    for field, value in values.items():
        if not isinstance(field, str) or not _FIELD.match(field):
            raise SecretError(f"{vendor} secret: field name {field!r} is not valid")
        if not isinstance(value, str) or not value.strip():
            raise SecretError(f"{vendor} secret: field {field!r} must be a non-empty string")


# ---------------------------------------------------------------------------------------
# Repository
# ---------------------------------------------------------------------------------------
async def put_secret(
    conn: AsyncConnection,
    organization_id: UUID,
    vendor: str,
    values: dict[str, str],
    updated_by: UUID | None = None,
    *,
    ring: KeyRing | None = None,
    public_fields: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Encrypt and store (insert or replace) an organisation's secret for a vendor; returns the
    hints stored beside it. A field in `public_fields` is not a secret (a key made for browsers):
    its whole value is its hint, so settings can show it."""
    _validate(vendor, values)
    ring = ring or KeyRing.from_settings()
    sealed = seal(ring, organization_id, vendor, values)
    hints = {k: v if k in public_fields else hint(v) for k, v in values.items()}
    try:
        async with conn.transaction():
            cur = await conn.execute(
                """
                insert into public.organization_secrets
                  (organization_id, vendor, key_id, nonce, ciphertext, hints, updated_by)
                values (%s, %s, %s, %s, %s, %s, %s)
                on conflict (organization_id, vendor) do update set
                  key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext,
                  hints = excluded.hints, updated_by = excluded.updated_by
                returning vendor
                """,
                (organization_id, vendor, sealed.key_id, sealed.nonce, sealed.ciphertext, Jsonb(hints), updated_by),
            )
            if await cur.fetchone() is None:
                raise SecretPermissionError(
                    f"only admins and owners may change the secrets of organisation {organization_id}"
                )
    except psycopg.errors.InsufficientPrivilege:
        raise SecretPermissionError(
            f"only admins and owners may change the secrets of organisation {organization_id}"
        ) from None
    return hints


async def get_secret(
    conn: AsyncConnection, organization_id: UUID, vendor: str, *, ring: KeyRing | None = None
) -> dict[str, str] | None:
    """The decrypted values (server side only), or None when none is stored or visible."""
    cur = await conn.execute(
        "select key_id, nonce, ciphertext from public.organization_secrets where organization_id = %s and vendor = %s",
        (organization_id, vendor),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    sealed = Sealed(*_row_values(row, "key_id", "nonce", "ciphertext"))
    return unseal(ring or KeyRing.from_settings(), organization_id, vendor, sealed)


async def delete_secret(conn: AsyncConnection, organization_id: UUID, vendor: str) -> bool:
    cur = await conn.execute(
        "delete from public.organization_secrets where organization_id = %s and vendor = %s returning vendor",
        (organization_id, vendor),
    )
    return await cur.fetchone() is not None


async def secret_hints(conn: AsyncConnection, organization_id: UUID) -> dict[str, dict[str, str]]:
    """vendor → {field: "…last4"}: what a settings page may show. Never plaintext."""
    cur = await conn.execute(
        "select vendor, hints from public.organization_secrets where organization_id = %s order by vendor",
        (organization_id,),
    )
    return {vendor: dict(hints) for vendor, hints in (_row_values(r, "vendor", "hints") for r in await cur.fetchall())}


@dataclass(frozen=True)
class RotationReport:
    rotated: int
    already_current: int
    primary_kid: str


async def rotate(conn: AsyncConnection, *, ring: KeyRing | None = None, force: bool = False) -> RotationReport:
    """Re-encrypt every secret not sealed with the ring's first key (all of them with `force`),
    in the caller's transaction. Run as service_role: it touches every organisation."""
    ring = ring or KeyRing.from_settings()
    rotated = current = 0
    async with conn.transaction():
        cur = await conn.execute(
            "select organization_id, vendor, key_id, nonce, ciphertext from public.organization_secrets "
            "order by organization_id, vendor for update"
        )
        rows = await cur.fetchall()
        for row in rows:
            org, vendor, kid, nonce, ciphertext = _row_values(row, "organization_id", "vendor", "key_id", "nonce", "ciphertext")
            if kid == ring.primary_kid and not force:
                current += 1
                continue
            values = unseal(ring, org, vendor, Sealed(kid, nonce, ciphertext))
            sealed = seal(ring, org, vendor, values)
            await conn.execute(
                "update public.organization_secrets set key_id = %s, nonce = %s, ciphertext = %s "
                "where organization_id = %s and vendor = %s",
                (sealed.key_id, sealed.nonce, sealed.ciphertext, org, vendor),
            )
            rotated += 1
    return RotationReport(rotated, current, ring.primary_kid)


def _row_values(row, *names: str) -> tuple:
    """Rows are dicts under the project's pool (dict_row) and tuples on a plain connection."""
    if isinstance(row, dict):
        return tuple(row[n] for n in names)
    return tuple(row)


# ---------------------------------------------------------------------------------------
# CLI: `switchboard secrets …`
# ---------------------------------------------------------------------------------------
cli = typer.Typer(help="Organisation secrets: encryption key ring and rotation.", no_args_is_help=True)
_console = Console()


@cli.command("generate-key")
def generate_key_command(
    kid: str = typer.Option(None, "--kid", help="Key id (default: k<UTC timestamp>)."),
) -> None:
    """Print a new key-ring entry. Prepend it to ENCRYPTION_KEYS, then run `switchboard secrets rotate`."""
    print(generate_key_entry(kid))


@cli.command("rotate")
def rotate_command(
    force: bool = typer.Option(False, "--all", help="Re-encrypt every secret, even those already under the first key."),
) -> None:
    """Re-encrypt every organisation secret with the first key of ENCRYPTION_KEYS."""
    from switchboard.db import Database, database_url

    ring = KeyRing.from_settings()

    async def _run() -> RotationReport:
        async with Database(database_url(), min_size=1, max_size=1, name="secrets-rotate") as db:
            async with db.as_service() as conn:
                return await rotate(conn, ring=ring, force=force)

    try:
        report = asyncio.run(_run())
    except SecretError as exc:
        _console.print(f"[red]rotation failed, nothing changed:[/] {exc}")
        raise typer.Exit(1) from None
    _console.print(
        f"[green]{report.rotated} secret(s) re-encrypted[/] with key {report.primary_kid!r}; "
        f"{report.already_current} already current."
    )


@cli.command("status")
def status_command() -> None:
    """How many secrets each key id protects (to know when a retired key can leave the ring)."""
    import psycopg as _pg

    from switchboard.db import database_url

    ring = KeyRing.from_settings()
    with _pg.connect(database_url()) as conn:
        counts = conn.execute("select key_id, count(*) from public.organization_secrets group by 1 order by 1").fetchall()
    _console.print(f"key ring: {', '.join(ring.kids)} (encrypting with {ring.primary_kid!r})")
    for kid, n in counts:
        flag = "" if kid in ring.kids else " [red](not in the ring!)[/]"
        _console.print(f"  {kid}: {n} secret(s){flag}")

