"""Local sign-up and sign-in (GoTrue-compatible rows, Supabase-shaped JWTs), token checks, the
Supabase Auth branch against a local GoTrue-shaped endpoint, and the users CLI."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt
import jwt
import psycopg
import pytest
from typer.testing import CliRunner

from switchboard import auth
from switchboard.db import Database
from switchboard.orgs import create_organization, list_my_organizations
from switchboard.settings import get_settings, reset_settings_cache


async def test_sign_up_writes_a_gotrue_row_and_signs_in(db: Database, db_url: str) -> None:
    session = await auth.sign_up(db, "  Ada@Example.COM ", "correct horse battery")
    assert session.email == "ada@example.com" and session.claims.sub == session.user_id
    assert session.claims.role == "authenticated" and session.claims.aud == "authenticated"
    assert session.expires_at - time.time() == pytest.approx(get_settings().jwt_expiry_seconds, abs=5)
    assert "correct horse" not in repr(session) and session.access_token not in repr(session)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select aud, role, email, encrypted_password, raw_app_meta_data, created_at, email_confirmed_at "
            "from auth.users where id = %s", (session.user_id,)).fetchone()
    aud, role, email, hashed, app_meta, created, confirmed = row
    assert (aud, role, email) == ("authenticated", "authenticated", "ada@example.com")
    assert app_meta == {"provider": "email", "providers": ["email"]} and created and confirmed
    assert hashed.startswith("$2a$10$") and bcrypt.checkpw(b"correct horse battery", hashed.encode())

    again = await auth.sign_in(db, "ada@example.com", "correct horse battery")
    assert again.user_id == session.user_id
    raw = jwt.decode(again.access_token, options={"verify_signature": False})
    assert {"sub", "role", "email", "aud", "exp", "iat", "session_id"} <= raw.keys()

    # the token's claims are what the database scopes take
    async with db.as_user(again.claims) as conn:
        org = await create_organization(conn, "Ada's")
        assert [o.id for o in await list_my_organizations(conn)] == [org.id]


async def test_wrong_password_unknown_user_and_bad_input_fail_clearly(db: Database) -> None:
    await auth.sign_up(db, "bob@example.com", "s3cret-password")
    for email, password in (("bob@example.com", "wrong-password"), ("nobody@example.com", "s3cret-password")):
        with pytest.raises(auth.AuthError, match="invalid e-mail or password") as err:
            await auth.sign_in(db, email, password)
        assert password not in str(err.value)
    with pytest.raises(auth.AuthError, match="already exists"):
        await auth.sign_up(db, "BOB@example.com", "another-password")
    with pytest.raises(auth.AuthError, match="at least 8"):
        await auth.sign_up(db, "carol@example.com", "short")
    with pytest.raises(auth.AuthError, match="valid e-mail"):
        await auth.sign_up(db, "not-an-email", "long-enough-password")
    with pytest.raises(auth.AuthError, match="72 bytes"):
        await auth.sign_up(db, "dave@example.com", "x" * 80)


def test_tokens_expired_tampered_or_foreign_are_refused() -> None:
    user = uuid.uuid4()
    token = auth.issue_token(user, "e@example.com", extra={"scopes": ["calls:read"]})
    claims = auth.verify_token(token)
    assert claims.sub == user and claims.email == "e@example.com" and claims.model_extra["scopes"] == ["calls:read"]
    assert auth.claims_from_bearer(f"Bearer {token}") == claims

    expired = auth.issue_token(user, "e@example.com", extra={"iat": int(time.time()) - 7200, "exp": int(time.time()) - 60})
    with pytest.raises(auth.AuthError, match="expired"):
        auth.verify_token(expired)
    head, body, sig = token.split(".")
    with pytest.raises(auth.AuthError, match="signature"):
        auth.verify_token(f"{head}.{body}.{sig[:-4]}AAAA")
    foreign = jwt.encode({"sub": str(user), "role": "authenticated", "exp": int(time.time()) + 60}, "another-project-secret-0123456789abcdef", algorithm="HS256")
    with pytest.raises(auth.AuthError, match="signature"):
        auth.verify_token(foreign)
    secret = get_settings().resolved_jwt_secret()
    with pytest.raises(auth.AuthError, match="'exp'"):
        auth.verify_token(jwt.encode({"sub": str(user), "role": "authenticated"}, secret, algorithm="HS256"))
    with pytest.raises(auth.AuthError, match="role"):
        auth.verify_token(jwt.encode({"sub": str(user), "role": "postgres", "exp": int(time.time()) + 60}, secret, algorithm="HS256"))
    with pytest.raises(auth.AuthError, match="HS256"):
        auth.verify_token(jwt.encode({"sub": str(user), "role": "authenticated", "exp": int(time.time()) + 60}, secret, algorithm="HS512"))
    for bad in ("", "garbage", "a.b.c"):
        with pytest.raises(auth.AuthError):
            auth.verify_token(bad)
    with pytest.raises(auth.AuthError, match="Bearer"):
        auth.claims_from_bearer(f"Basic {token}")


def test_service_role_token_is_stable_and_verifies_as_service_role(monkeypatch: pytest.MonkeyPatch) -> None:
    token = auth.service_role_token()
    assert token == auth.service_role_token()
    claims = auth.verify_token(token)
    assert claims.role == "service_role" and claims.sub is None
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "given-service-key")
    reset_settings_cache()
    try:
        assert auth.service_role_token() == "given-service-key"
    finally:
        monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY")
        reset_settings_cache()


# --- Supabase Auth branch -------------------------------------------------------------------
class _GoTrue(BaseHTTPRequestHandler):
    """The two GoTrue endpoints supabase-py's auth calls, answering as GoTrue does
    (POST /auth/v1/signup, POST /auth/v1/token?grant_type=password), tokens signed with the
    project's JWT secret."""

    users: dict[str, tuple[str, str]] = {}
    secret = ""
    seen_apikeys: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _session(self, user_id: str, email: str) -> dict:
        now = int(time.time())
        user = {"id": user_id, "aud": "authenticated", "role": "authenticated", "email": email,
                "email_confirmed_at": "2026-11-22T10:00:00Z", "phone": "", "confirmed_at": "2026-11-22T10:00:00Z",
                "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {},
                "identities": [], "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z",
                "is_anonymous": False}
        token = jwt.encode({"aud": "authenticated", "exp": now + 3600, "iat": now, "sub": user_id, "email": email,
                            "phone": "", "role": "authenticated", "app_metadata": user["app_metadata"],
                            "user_metadata": {}, "aal": "aal1", "session_id": str(uuid.uuid4()),
                            "is_anonymous": False, "iss": "http://127.0.0.1/auth/v1"}, self.secret, algorithm="HS256")
        return {"access_token": token, "token_type": "bearer", "expires_in": 3600, "expires_at": now + 3600,
                "refresh_token": "r" + uuid.uuid4().hex[:12], "user": user}

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen_apikeys.append(self.headers.get("apikey", ""))
        email, password = body.get("email"), body.get("password")
        if self.path.startswith("/auth/v1/signup"):
            if email in self.users:
                return self._reply(422, {"code": 422, "error_code": "user_already_exists", "msg": "User already registered"})
            self.users[email] = (str(uuid.uuid4()), password)
            return self._reply(200, self._session(self.users[email][0], email))
        if self.path.startswith("/auth/v1/token?grant_type=password"):
            known = self.users.get(email)
            if not known or known[1] != password:
                return self._reply(400, {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
            return self._reply(200, self._session(known[0], email))
        self._reply(404, {"code": 404, "msg": "not found"})


@pytest.fixture
def gotrue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _GoTrue.users, _GoTrue.secret, _GoTrue.seen_apikeys = {}, get_settings().resolved_jwt_secret(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GoTrue)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("SUPABASE_URL", url)
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon-key-for-tests")
    reset_settings_cache()
    try:
        yield url
    finally:
        server.shutdown()
        monkeypatch.delenv("SUPABASE_URL")
        monkeypatch.delenv("SUPABASE_ANON_KEY")
        reset_settings_cache()


async def test_with_supabase_settings_auth_goes_through_supabase_client(db: Database, db_url: str, gotrue: str) -> None:
    up = await auth.sign_up(db, "hosted@example.com", "hosted-password")
    inn = await auth.sign_in(db, "hosted@example.com", "hosted-password")
    assert inn.user_id == up.user_id and inn.claims.role == "authenticated" and inn.email == "hosted@example.com"
    assert set(_GoTrue.seen_apikeys) == {"anon-key-for-tests"}
    with psycopg.connect(db_url) as conn:  # nothing written locally: GoTrue owns the users
        assert conn.execute("select count(*) from auth.users").fetchone()[0] == 0
    with pytest.raises(auth.AuthError, match="Invalid login credentials") as err:
        await auth.sign_in(db, "hosted@example.com", "wrong-password")
    assert "wrong-password" not in str(err.value)
    with pytest.raises(auth.AuthError, match="already registered"):
        await auth.sign_up(db, "hosted@example.com", "hosted-password")


def test_users_cli_creates_a_user_and_their_organisation(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.cli import app

    monkeypatch.setenv("DATABASE_URL", db_url)
    reset_settings_cache()
    try:
        out = CliRunner().invoke(app, ["users", "create", "cli@example.com", "--password", "cli-harbour-tangent-92", "--org", "Cli Co"])
        assert out.exit_code == 0, out.output
        again = CliRunner().invoke(app, ["users", "create", "cli@example.com", "--password", "cli-harbour-tangent-92"])
        assert again.exit_code == 1 and "already exists" in again.output
    finally:
        monkeypatch.delenv("DATABASE_URL")
        reset_settings_cache()
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select o.name, m.role from organizations o join memberships m on m.organization_id = o.id "
                            "join auth.users u on u.id = m.user_id where u.email = 'cli@example.com'").fetchall()
    assert rows == [("Cli Co", "owner")]
