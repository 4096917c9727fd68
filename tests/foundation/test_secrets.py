"""Organisation secrets: AES-256-GCM with a key ring, bound to their row, admins only, never
in clear in the database."""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest
from typer.testing import CliRunner

from switchboard import secrets as sec
from switchboard.db import Database
from switchboard.db.local import LocalCluster, find_bindir
from switchboard.settings import ConfigurationError, reset_settings_cache

from .conftest import new_key_entry

PLAINTEXT = "sk-live-5f0c2d9e8b7a4c1d9e8f7a6b5c4d3e2f"


@pytest.fixture
def ring() -> sec.KeyRing:
    return sec.KeyRing.parse(new_key_entry("k1"))


async def test_admin_stores_and_reads_back_and_sees_only_hints(db: Database, tenants, ring) -> None:
    a, _ = tenants
    async with db.as_user(a.admin) as conn:
        hints = await sec.put_secret(conn, a.org_id, "retell", {"api_key": PLAINTEXT}, a.admin.sub, ring=ring)
        assert hints == {"api_key": "…" + PLAINTEXT[-4:]}
        assert await sec.get_secret(conn, a.org_id, "retell", ring=ring) == {"api_key": PLAINTEXT}
        assert await sec.secret_hints(conn, a.org_id) == {"retell": hints}
    async with db.as_user(a.owner) as conn:  # replacing keeps one row per vendor
        await sec.put_secret(conn, a.org_id, "retell", {"api_key": PLAINTEXT + "x"}, ring=ring)
        assert await sec.get_secret(conn, a.org_id, "retell", ring=ring) == {"api_key": PLAINTEXT + "x"}
        assert await sec.delete_secret(conn, a.org_id, "retell") is True
        assert await sec.get_secret(conn, a.org_id, "retell", ring=ring) is None
        assert await sec.delete_secret(conn, a.org_id, "retell") is False


async def test_plain_members_and_other_tenants_cannot_touch_secrets(db: Database, tenants, ring) -> None:
    a, b = tenants
    async with db.as_user(a.admin) as conn:
        await sec.put_secret(conn, a.org_id, "vapi", {"api_key": PLAINTEXT}, ring=ring)
    for who in (a.member, b.owner, b.admin, b.member):
        async with db.as_user(who) as conn:
            with pytest.raises(sec.SecretPermissionError) as err:
                await sec.put_secret(conn, a.org_id, "vapi", {"api_key": "sk-attacker-000000000"}, ring=ring)
            assert "sk-attacker" not in str(err.value)
            assert await sec.get_secret(conn, a.org_id, "vapi", ring=ring) is None
            assert await sec.secret_hints(conn, a.org_id) == {}
            assert await sec.delete_secret(conn, a.org_id, "vapi") is False
    async with db.as_anon() as conn:
        assert await sec.secret_hints(conn, a.org_id) == {}
    async with db.as_service() as conn:
        assert await sec.get_secret(conn, a.org_id, "vapi", ring=ring) == {"api_key": PLAINTEXT}


async def test_a_ciphertext_moved_to_another_row_does_not_decrypt(db: Database, tenants, ring) -> None:
    a, b = tenants
    async with db.as_service() as conn:
        await sec.put_secret(conn, a.org_id, "retell", {"api_key": PLAINTEXT}, ring=ring)
        await sec.put_secret(conn, b.org_id, "retell", {"api_key": "sk-beta-0000000000000"}, ring=ring)
        await sec.put_secret(conn, a.org_id, "vapi", {"api_key": "sk-vapi-0000000000000"}, ring=ring)
        for target_org, target_vendor in ((b.org_id, "retell"), (a.org_id, "vapi")):
            await conn.execute(
                "update organization_secrets t set nonce = s.nonce, ciphertext = s.ciphertext, key_id = s.key_id "
                "from organization_secrets s where s.organization_id = %s and s.vendor = 'retell' "
                "and t.organization_id = %s and t.vendor = %s",
                (a.org_id, target_org, target_vendor),
            )
            with pytest.raises(sec.SecretDecryptionError) as err:
                await sec.get_secret(conn, target_org, target_vendor, ring=ring)
            assert PLAINTEXT not in str(err.value) and PLAINTEXT not in repr(err.value)
        # a flipped bit fails too
        await conn.execute(
            "update organization_secrets set ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1) "
            "where organization_id = %s and vendor = 'retell'", (a.org_id,),
        )
        with pytest.raises(sec.SecretDecryptionError):
            await sec.get_secret(conn, a.org_id, "retell", ring=ring)


async def test_rotation_reencrypts_with_the_new_first_key_and_keeps_everything_readable(db: Database, tenants) -> None:
    a, b = tenants
    old = new_key_entry("old")
    old_ring = sec.KeyRing.parse(old)
    stored = {(a.org_id, "retell"): {"api_key": PLAINTEXT}, (a.org_id, "openai"): {"api_key": "sk-openai-1111111111"},
              (b.org_id, "signalwire"): {"project_id": "p-2222", "api_token": "PT3333333333333"}}
    async with db.as_service() as conn:
        for (org, vendor), values in stored.items():
            await sec.put_secret(conn, org, vendor, values, ring=old_ring)
    new_ring = sec.KeyRing.parse(new_key_entry("new") + "," + old)
    async with db.as_service() as conn:
        report = await sec.rotate(conn, ring=new_ring)
        assert (report.rotated, report.already_current, report.primary_kid) == (3, 0, "new")
        kids = {r["key_id"] for r in await (await conn.execute("select key_id from organization_secrets")).fetchall()}
        assert kids == {"new"}
        assert (await sec.rotate(conn, ring=new_ring)).rotated == 0  # idempotent
    # The old key can now leave the ring.
    only_new = sec.KeyRing(new_ring.keys[:1])
    async with db.as_service() as conn:
        for (org, vendor), values in stored.items():
            assert await sec.get_secret(conn, org, vendor, ring=only_new) == values
    # Before rotation, a ring without the old key names the missing kid.
    async with db.as_service() as conn:
        await sec.put_secret(conn, a.org_id, "cartesia", {"api_key": "sk-cart-44444444444"}, ring=old_ring)
        with pytest.raises(sec.UnknownKeyError, match="'old'"):
            await sec.get_secret(conn, a.org_id, "cartesia", ring=only_new)


def test_plaintext_appears_nowhere_in_a_pg_dump(db_url: str, pg_cluster: LocalCluster, ring) -> None:
    import asyncio

    async def store() -> None:
        async with Database(db_url, min_size=1, max_size=1) as database:
            async with database.as_service() as conn:
                org = (await (await conn.execute("insert into organizations (name) values ('Dump') returning id")).fetchone())["id"]
                await sec.put_secret(conn, org, "retell", {"api_key": PLAINTEXT, "webhook_secret": "whsec-9a8b7c6d5e4f3a2b"}, ring=ring)

    asyncio.run(store())
    cmd = [str(find_bindir() / "pg_dump"), "-h", "127.0.0.1", "-p", str(pg_cluster.port), "-U", "postgres",
           "--no-password", db_url.rsplit("/", 1)[1]]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    dump = subprocess.run(cmd, capture_output=True, check=True).stdout
    assert b"organization_secrets" in dump and b"retell" in dump  # the row is in the dump...
    for needle in (PLAINTEXT, "whsec-9a8b7c6d5e4f3a2b", PLAINTEXT[:-4]):  # ...its secret is not
        assert needle.encode() not in dump
        assert needle.encode().hex().encode() not in dump  # bytea is dumped as hex


def test_key_ring_errors_never_show_key_material() -> None:
    good = new_key_entry("a")
    secret_part = good.split(":", 1)[1]
    short = "b:" + secret_part[:20]
    for spec, expected in ((short, "entry 1"), (good + ",a:" + secret_part, "appears twice"),
                           ("nokid" + secret_part, "kid:base64"), ("", "empty")):
        with pytest.raises(ConfigurationError, match=expected) as err:
            sec.KeyRing.parse(spec)
        assert secret_part[:16] not in str(err.value)
    ring = sec.KeyRing.parse(new_key_entry("k2") + "," + good)
    assert ring.primary_kid == "k2" and ring.kids == ("k2", "a")
    assert secret_part not in repr(ring)


def test_invalid_input_is_refused_without_echoing_values() -> None:
    ring = sec.KeyRing.parse(new_key_entry("k"))
    import uuid

    with pytest.raises(sec.SecretError, match="vendor"):
        sec._validate("Bad Vendor!", {"api_key": PLAINTEXT})
    with pytest.raises(sec.SecretError, match="non-empty") as err:
        sec._validate("retell", {"api_key": "  "})
    assert sec.mask(PLAINTEXT) == "…" + PLAINTEXT[-4:] and sec.mask("short") == "…"
    sealed = sec.seal(ring, uuid.uuid4(), "retell", {"api_key": PLAINTEXT})
    assert PLAINTEXT not in repr(sealed) and PLAINTEXT.encode() not in sealed.ciphertext
    del err


def test_cli_generates_keys_and_rotates(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["secrets", "generate-key", "--kid", "k9"])
    assert out.exit_code == 0, out.output
    entry = out.output.strip()
    assert sec.KeyRing.parse(entry).kids == ("k9",)
    old = new_key_entry("k8")
    with psycopg.connect(db_url) as conn:
        org = conn.execute("insert into organizations (name) values ('Cli') returning id").fetchone()[0]
        s = sec.seal(sec.KeyRing.parse(old), org, "vapi", {"api_key": PLAINTEXT})
        conn.execute("insert into organization_secrets (organization_id, vendor, key_id, nonce, ciphertext) "
                     "values (%s, 'vapi', %s, %s, %s)", (org, s.key_id, s.nonce, s.ciphertext))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ENCRYPTION_KEYS", entry + "," + old)
    reset_settings_cache()
    try:
        out = runner.invoke(app, ["secrets", "rotate"])
        assert out.exit_code == 0, out.output
        assert "1 secret(s) re-encrypted" in out.output and PLAINTEXT not in out.output
        with psycopg.connect(db_url) as conn:
            assert conn.execute("select key_id from organization_secrets").fetchone()[0] == "k9"
        status = runner.invoke(app, ["secrets", "status"])
        assert status.exit_code == 0 and "k9: 1 secret(s)" in status.output and "not in the ring" not in status.output
        # a ring missing the key in use fails clearly and changes nothing
        monkeypatch.setenv("ENCRYPTION_KEYS", new_key_entry("k10"))
        reset_settings_cache()
        out = runner.invoke(app, ["secrets", "rotate"])
        assert out.exit_code == 1 and "k9" in out.output and "nothing changed" in out.output
        assert "not in the ring" in runner.invoke(app, ["secrets", "status"]).output
        with psycopg.connect(db_url) as conn:
            assert conn.execute("select key_id from organization_secrets").fetchone()[0] == "k9"
    finally:
        monkeypatch.delenv("DATABASE_URL")
        monkeypatch.delenv("ENCRYPTION_KEYS")
        reset_settings_cache()
