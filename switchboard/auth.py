"""Sign-up, sign-in and the JWTs the rest of the code trusts.

Locally, users live in GoTrue's own table (`auth.users`, bcrypt hash in `encrypted_password`,
as GoTrue writes it) and tokens are HS256 JWTs with Supabase's claims, signed with the JWT
secret — so a token from a hosted Supabase project (legacy HS256 JWT secret) and a local one
look the same. With `SUPABASE_URL` and `SUPABASE_ANON_KEY` set, sign-up and sign-in go through
the `supabase` client's auth (GoTrue) instead; either way the caller gets an `AuthSession`
whose `claims` the database scopes (`db.as_user`) take.

At the door: every sign-in and sign-up attempt is counted per account and per client address
(`switchboard.ratelimit`, shared by the admin app and the API's token minting) before a password
is looked at; new passwords must be hard to guess (zxcvbn score ≥ 3, at least 8 characters);
tokens must be for the `authenticated` audience (Supabase's service_role and anon keys carry
none); and `db.as_user` refuses a banned or deleted user within a minute, whatever the token.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any
from uuid import UUID

import bcrypt
import jwt
import psycopg
import typer
from psycopg.types.json import Jsonb
from pydantic import ValidationError
from rich.console import Console

from switchboard import ratelimit
from switchboard.db import Database
from switchboard.models import AuthSession
from switchboard.settings import get_settings
from switchboard.tenancy import AuthError, Claims
from switchboard.errors import Limited

__all__ = [
    "AuthError", "TooManyAttempts", "AuthSession", "sign_up", "sign_in", "issue_token", "verify_token",
    "service_role_token", "claims_from_bearer", "password_problem",
]

ALGORITHM = "HS256"
AUDIENCE = "authenticated"  # what Supabase Auth puts in a signed-in user's token
BCRYPT_COST = 10  # GoTrue's default cost
MIN_PASSWORD_LENGTH = 8
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 "safely unguessable" (~10^8 guesses), 4 very unguessable
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GOTRUE_INSTANCE = "00000000-0000-0000-0000-000000000000"
_EMAIL_APP_METADATA = {"provider": "email", "providers": ["email"]}
# A fixed hash to compare against when the e-mail is unknown, so both failures take as long.
_DUMMY_HASH = bcrypt.hashpw(b"switchboard-no-such-user", bcrypt.gensalt(BCRYPT_COST))


class TooManyAttempts(Limited, AuthError):
    """Too many sign-in or sign-up attempts for this account or from this address."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many attempts: try again in {retry_after} second{'s' if retry_after != 1 else ''}.")
        self.retry_after = retry_after


async def _count_attempt(action: str, email: str, client: str | None) -> None:
    try:
        await ratelimit.limiter().attempt(action, account=email, address=client)
    except ratelimit.RateLimited as exc:
        raise TooManyAttempts(exc.retry_after) from None


# ---------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------
def issue_token(user_id: UUID | str, email: str | None, *, role: str = "authenticated",
                extra: dict[str, Any] | None = None) -> str:
    """An access token as Supabase Auth issues it (HS256, the project's JWT secret)."""
    s = get_settings()
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "aud": "authenticated",
        "email": email or "",
        "iat": now,
        "exp": now + s.jwt_expiry_seconds,
        "session_id": str(uuid.uuid4()),
        "app_metadata": dict(_EMAIL_APP_METADATA),
        "user_metadata": {},
        "aal": "aal1",
        "is_anonymous": False,
    }
    payload.update(extra or {})
    return jwt.encode(payload, s.resolved_jwt_secret(), algorithm=ALGORITHM)


def service_role_token() -> str:
    """The bearer token Supabase database webhooks send: SUPABASE_SERVICE_ROLE_KEY when set,
    otherwise a service_role JWT signed with the JWT secret. Deterministic (fixed iat/exp, like
    Supabase's own key), so every process derives the same one."""
    s = get_settings()
    if s.service_role_key:
        return s.service_role_key.get_secret_value()
    issued = 1_763_769_600  # 2025-11-22, a fixed point so the token is stable
    payload = {"iss": "supabase", "role": "service_role", "iat": issued, "exp": issued + 20 * 365 * 86400}
    return jwt.encode(payload, s.resolved_jwt_secret(), algorithm=ALGORITHM)


def verify_token(token: str) -> Claims:
    """Check the signature and expiry of a Supabase-style JWT and return its claims."""
    if not token or not isinstance(token, str):
        raise AuthError("no token given")
    secret = get_settings().resolved_jwt_secret()
    try:
        try:
            payload = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                 options={"require": ["exp", "role"]}, leeway=10)
        except jwt.MissingRequiredClaimError as exc:
            if exc.claim != "aud":
                raise
            # Supabase's service_role and anon keys carry no audience; a user's token must.
            payload = jwt.decode(token, secret, algorithms=[ALGORITHM],
                                 options={"require": ["exp", "role"], "verify_aud": False}, leeway=10)
            if payload.get("role") == "authenticated":
                raise AuthError(f"the token is not for the {AUDIENCE!r} audience") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"the token is not for the {AUDIENCE!r} audience") from None
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired: sign in again") from None
    except jwt.InvalidSignatureError:
        raise AuthError("the token's signature is not valid for this project's JWT secret") from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"the token lacks the {exc.claim!r} claim") from None
    except jwt.InvalidAlgorithmError:
        raise AuthError(f"the token is not signed with {ALGORITHM}") from None
    except jwt.InvalidTokenError:
        raise AuthError("the token is malformed") from None
    if isinstance(payload.get("aud"), list):
        payload["aud"] = AUDIENCE  # the list holds ours (checked above)
    try:
        claims = Claims.model_validate(payload)
    except ValidationError:
        raise AuthError(f"the token's role {payload.get('role')!r} or subject is not one Switchboard accepts") from None
    if claims.role == "authenticated" and claims.sub is None:
        raise AuthError("the token has no subject (sub)")
    return claims


def claims_from_bearer(authorization: str | None) -> Claims:
    """Claims from an `Authorization: Bearer …` header value."""
    if not authorization:
        raise AuthError("missing Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <token>'")
    return verify_token(token.strip())


def _session(token: str) -> AuthSession:
    claims = verify_token(token)
    return AuthSession(
        access_token=token, user_id=claims.user_id, email=claims.email or "", expires_at=claims.exp or 0, claims=claims
    )


# ---------------------------------------------------------------------------------------
# Sign-up / sign-in
# ---------------------------------------------------------------------------------------
def _normalise(email: str, password: str, *, new: bool) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 255:
        raise AuthError("enter a valid e-mail address")
    if not isinstance(password, str) or not password:
        raise AuthError("enter a password")
    if new and len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > 72:
        raise AuthError("the password is longer than 72 bytes (bcrypt's limit)")
    return email


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is too easy to guess, in words (zxcvbn's feedback), or None. The
    e-mail's parts count as known words (a password made of one's own address is weak)."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password needs at least {MIN_PASSWORD_LENGTH} characters"
    hints = [part for part in re.split(r"[@.+_-]", email) if len(part) > 2]
    result = zxcvbn(password, user_inputs=hints + ["switchboard"])
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    feedback = result.get("feedback") or {}
    words = [feedback.get("warning") or ""] + list(feedback.get("suggestions") or [])
    advice = " ".join(w.strip() for w in words if w and w.strip()) or "Add another word or two. Uncommon words are better."
    return f"This password is too easy to guess: {advice}"


def hosted_auth_enabled() -> bool:
    s = get_settings()
    return bool(s.supabase_url and s.supabase_anon_key)


async def sign_up(db: Database, email: str, password: str, *, client: str | None = None,
                  check_strength: bool = True) -> AuthSession:
    """Create an account and sign it in. Local accounts are confirmed at once (no mail server).
    `client`: the caller's address (rate limits). `check_strength=False` only for the demo
    seed's documented accounts (switchboard.demo)."""
    email = _normalise(email, password, new=True)
    await _count_attempt("sign_up", email, client)
    if check_strength and (problem := password_problem(password, email)):
        raise AuthError(problem)
    if hosted_auth_enabled():
        return await _hosted("sign_up", email, password)
    hashed = (await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(BCRYPT_COST))).decode()
    hashed = hashed.replace("$2b$", "$2a$", 1)  # the prefix GoTrue (Go's bcrypt) writes; same algorithm
    user_id = uuid.uuid4()
    try:
        # auth.users belongs to GoTrue (supabase_auth_admin), not to the API roles.
        async with db.as_owner() as conn:
            await conn.execute(
                """
                insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                  email_confirmed_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data,
                  is_super_admin, created_at, updated_at, is_sso_user, is_anonymous)
                values (%s, %s, 'authenticated', 'authenticated', %s, %s, now(), now(), %s, '{}'::jsonb,
                  false, now(), now(), false, false)
                """,
                (_GOTRUE_INSTANCE, user_id, email, hashed, Jsonb(_EMAIL_APP_METADATA)),
            )
    except psycopg.errors.UniqueViolation:
        raise AuthError("an account with this e-mail already exists: sign in instead") from None
    return _session(issue_token(user_id, email))


async def sign_in(db: Database, email: str, password: str, *, client: str | None = None) -> AuthSession:
    """`client`: the caller's address (rate limits: per account and per address). Every failure
    of the password reads the same, whether or not the account exists."""
    email = _normalise(email, password, new=False)
    await _count_attempt("sign_in", email, client)
    if hosted_auth_enabled():
        return await _hosted("sign_in", email, password)
    async with db.as_owner() as conn:
        cur = await conn.execute(
            "select id, email, encrypted_password, banned_until, deleted_at from auth.users "
            "where lower(email) = %s and not is_sso_user order by created_at limit 1",
            (email,),
        )
        row = await cur.fetchone()
    stored = (row or {}).get("encrypted_password") or ""
    ok = await asyncio.to_thread(
        bcrypt.checkpw, password.encode(), stored.encode() if stored.startswith("$2") else _DUMMY_HASH
    )
    if not row or not ok or not stored:
        raise AuthError("invalid e-mail or password")
    if row["deleted_at"] is not None:
        raise AuthError("invalid e-mail or password")
    if row["banned_until"] is not None and row["banned_until"].timestamp() > time.time():
        raise AuthError("this account is suspended")
    async with db.as_owner() as conn:
        await conn.execute("update auth.users set last_sign_in_at = now() where id = %s", (row["id"],))
    db.user_status.forget(row["id"])  # a ban lifted since it was last read: not held against them
    return _session(issue_token(row["id"], row["email"]))


async def _hosted(action: str, email: str, password: str) -> AuthSession:
    """Through Supabase Auth (GoTrue) with the official client."""
    from supabase import AsyncClientOptions, acreate_client
    from supabase_auth.errors import AuthError as GoTrueError

    s = get_settings()
    client = await acreate_client(
        s.supabase_url, s.supabase_anon_key.get_secret_value(),
        options=AsyncClientOptions(auto_refresh_token=False, persist_session=False),
    )
    credentials = {"email": email, "password": password}
    try:
        if action == "sign_up":
            response = await client.auth.sign_up(credentials)
        else:
            response = await client.auth.sign_in_with_password(credentials)
    except GoTrueError as exc:
        raise AuthError(f"Supabase Auth refused: {exc.message}") from None
    except Exception as exc:  # network and protocol failures: name the kind, not the request
        raise AuthError(f"Supabase Auth at {s.supabase_url} is unreachable ({type(exc).__name__})") from None
    if response.session is None:
        raise AuthError("account created: confirm it from the e-mail Supabase sent, then sign in")
    return session_from_supabase(response.session)


def session_from_supabase(session: Any) -> AuthSession:
    """A supabase-py `Session` as the rest of the code sees any session: its access token is
    verified with the project's JWT secret, so the claims are the same as local ones."""
    result = _session(session.access_token)
    if session.expires_at:
        result.expires_at = int(session.expires_at)
    return result


# ---------------------------------------------------------------------------------------
# CLI: `switchboard users …`
# ---------------------------------------------------------------------------------------
cli = typer.Typer(help="User accounts (local auth).", no_args_is_help=True)
_console = Console()


@cli.command("create")
def create_user_command(
    email: str = typer.Argument(..., help="E-mail address (the sign-in name)."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True),
    org: str = typer.Option(None, "--org", help="Also create an organisation of this name, owned by the user."),
) -> None:
    """Create a user (and optionally an organisation they own)."""
    from switchboard.db import database_url
    from switchboard.orgs import create_organization

    async def _run() -> tuple[AuthSession, Any]:
        async with Database(database_url(), min_size=1, max_size=2, name="users-cli") as db:
            session = await sign_up(db, email, password)
            organization = None
            if org:
                async with db.as_user(session.claims) as conn:
                    organization = await create_organization(conn, org)
            return session, organization

    try:
        session, organization = asyncio.run(_run())
    except (AuthError, ValueError, PermissionError) as exc:
        _console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    _console.print(f"[green]user created[/] {session.email} ({session.user_id})")
    if organization:
        _console.print(f"[green]organisation created[/] {organization.name} ({organization.id}), owner {session.email}")
