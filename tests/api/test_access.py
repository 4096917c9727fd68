"""Who may do what, for every route of the document: no token → 401; an organisation the
caller does not belong to → 404 (existence does not leak); a token or role without the scope →
403. Plus the organisation choice (token claim, X-Organization-Id, sole membership) and the
scope rules (role ∩ token `scopes`)."""

from __future__ import annotations

import re
import time
from uuid import uuid4

import httpx
import jwt
import pytest

from edge_functions.api.testapp import create_app
from switchboard.access import scopes_for
from switchboard.settings import get_settings
from switchboard.tenancy import Claims
from tests.api.conftest import World, make_user

ORG = "/api/organizations/current/providers"
PUBLIC = {("GET", "/api/providers"), ("GET", "/api/providers/{key}"), ("POST", "/api/auth/token")}
# Signed-in, but not in an organisation: the invitee joins one (tests/api/test_invitations.py).
ACCOUNT = {("POST", "/api/invitations/accept")}
# Routes whose scope a plain member has, but whose rule needs an admin or owner.
ADMINS = {("POST", "/api/invitations"), ("DELETE", "/api/invitations/{invitation_id}"), ("PUT", "/api/scenario-settings")}


def routes(w: World) -> list[tuple[str, str, str, dict | None]]:
    """(method, path, scope needed, body) for every non-public operation."""
    a, c = w.agent_a, w.calls_a[0]
    return [
        ("GET", ORG, "read", None),
        ("GET", f"{ORG}/openai-llm", "read", None),
        ("GET", f"{ORG}/openai-llm/config", "read", None),
        ("PUT", f"{ORG}/openai-llm/config", "write", {"config": {"temperature": 0.5}}),
        ("DELETE", f"{ORG}/openai-llm/config", "write", None),
        ("PUT", f"{ORG}/openai-llm/secrets", "admin:secrets", {"secrets": {"api_key": "sk-access-test-0000"}}),
        ("DELETE", f"{ORG}/openai-llm/secrets", "admin:secrets", None),
        ("GET", f"{ORG}/llm/primary", "read", None),
        ("GET", "/api/agents", "read", None),
        ("GET", f"/api/agents/{a}", "read", None),
        ("PATCH", f"/api/agents/{a}", "write", {"name": "renamed"}),
        ("PUT", f"/api/agents/{a}/provider", "write", {"active_provider": "vapi"}),
        ("GET", "/api/calls", "read", None),
        ("GET", "/api/calls.csv", "read", None),
        ("GET", f"/api/calls/{c}", "read", None),
        ("GET", "/api/usage/summary", "read", None),
        ("GET", "/api/usage/daily", "read", None),
        ("GET", "/api/usage/components", "read", None),
        ("GET", "/api/usage/cost-per-minute", "read", None),
        ("GET", "/api/usage/latency", "read", None),
        ("GET", "/api/invitations", "read", None),
        ("POST", "/api/invitations", "write", {"email": "invitee@example.com", "role": "member"}),
        ("DELETE", f"/api/invitations/{uuid4()}", "write", None),
        ("POST", f"/api/agents/{a}/conversations", "write", {"platform": "livekit"}),
        ("GET", f"/api/agents/{a}/conversations/{uuid4()}", "read", None),
        ("POST", f"/api/agents/{a}/conversations/{uuid4()}/messages", "write", {"text": "hello"}),
        ("DELETE", f"/api/agents/{a}/conversations/{uuid4()}", "write", None),
        ("POST", f"/api/agents/{a}/web-calls", "write", {"platform": "livekit"}),
        ("POST", "/api/calls", "write", {"agent_id": str(a), "to": "+15550001111"}),
        ("POST", f"/api/calls/{c}/end", "write", None),
        ("GET", "/api/do-not-call", "read", None),
        ("POST", "/api/do-not-call", "write", {"e164": "+15550002222"}),
        ("DELETE", "/api/do-not-call/+15550002222", "write", None),
        ("GET", f"/api/agents/{a}/versions", "read", None),
        ("GET", f"/api/agents/{a}/versions/1", "read", None),
        ("POST", f"/api/agents/{a}/versions/999/publish", "write", None),
        ("GET", f"/api/agents/{a}/scenarios", "read", None),
        ("GET", f"/api/agents/{a}/scenarios.yaml", "read", None),
        ("POST", f"/api/agents/{a}/scenarios/import", "write", {"yaml": "scenarios: []"}),
        # (an unknown platform: refused in words after the scope check, so no run starts)
        ("POST", f"/api/agents/{a}/scenario-runs", "write", {"platform": "none-such"}),
        ("GET", f"/api/agents/{a}/scenario-runs", "read", None),
        ("GET", f"/api/scenario-runs/{uuid4()}", "read", None),
        ("GET", f"/api/scenario-runs/{uuid4()}/compare/{uuid4()}", "read", None),
        ("POST", f"/api/scenario-runs/{uuid4()}/resume", "write", None),
        ("GET", "/api/scenario-settings", "read", None),
        ("PUT", "/api/scenario-settings", "write", {"require_scenarios_to_publish": False, "scenario_concurrency": 4}),
    ]


def _template(path: str, w: World) -> str:
    path = re.sub(r"/invitations/[0-9a-f-]{36}$", "/invitations/{invitation_id}", path)
    path = re.sub(r"/conversations/[0-9a-f-]{36}", "/conversations/{conversation_id}", path)
    path = re.sub(r"/do-not-call/\+[0-9]+$", "/do-not-call/{e164}", path)
    path = re.sub(r"/versions/[0-9]+", "/versions/{number}", path)
    path = re.sub(r"/scenario-runs/[0-9a-f-]{36}/compare/[0-9a-f-]{36}$", "/scenario-runs/{run_id}/compare/{other_id}", path)
    path = re.sub(r"/scenario-runs/[0-9a-f-]{36}(/resume)?$", r"/scenario-runs/{run_id}\1", path)
    return (path.replace(str(w.agent_a), "{agent_id}").replace(str(w.calls_a[0]), "{call_id}")
            .replace("/openai-llm", "/{key}").replace("/llm/primary", "/{type}/primary"))


async def test_the_matrix_covers_every_operation_of_the_document(world: World, db) -> None:
    document = create_app(db).openapi()
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    covered = {(m, _template(p, world)) for m, p, _, _ in routes(world)}
    assert operations - PUBLIC - ACCOUNT == covered
    secured = {(m.upper(), p) for p, item in document["paths"].items() for m, op in item.items() if op.get("security")}
    assert secured == covered | ACCOUNT
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": document["components"]["securitySchemes"]["bearer"]["description"]}


async def _send(client, method, path, body, headers) -> httpx.Response:
    headers = {**headers, "If-Match": "*"}
    return await client.request(method, path, json=body, headers=headers)


async def test_no_or_bad_token_is_401(client: httpx.AsyncClient, world: World) -> None:
    secret = get_settings().resolved_jwt_secret()
    now = int(time.time())
    expired = jwt.encode({"sub": str(world.owner_a.id), "role": "authenticated", "aud": "authenticated", "exp": now - 60}, secret)
    forged = jwt.encode({"sub": str(world.owner_a.id), "role": "authenticated", "aud": "authenticated", "exp": now + 60}, "not-the-project-secret-but-long-enough-for-hs256")
    service = jwt.encode({"role": "service_role", "exp": now + 60}, secret)
    for method, path, _, body in routes(world):
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": f"Bearer {expired}"},
                        {"Authorization": f"Bearer {forged}"}, {"Authorization": f"Bearer {service}"}):
            r = await _send(client, method, path, body, headers)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.headers["WWW-Authenticate"].startswith("Bearer") and r.json()["code"] == "unauthorized"


async def test_another_organisation_is_404_on_every_route(client: httpx.AsyncClient, world: World, db) -> None:
    pinned = world.owner_a.token_with(organization_id=str(world.org_a))
    stranger = await make_user(db, f"stranger-{uuid4().hex[:6]}@example.com")
    for method, path, _, body in routes(world):
        # A (an owner) names B, of which they are not a member.
        r = await _send(client, method, path, body, world.owner_a.headers(**{"X-Organization-Id": str(world.org_b)}))
        assert r.status_code == 404 and r.json()["code"] == "not_found", (method, path, r.text)
        # A token issued for A cannot be pointed at B.
        r = await _send(client, method, path, body, {"Authorization": f"Bearer {pinned}", "X-Organization-Id": str(world.org_b)})
        assert r.status_code == 404, (method, path, r.text)
        # An organisation that does not exist looks the same as one that is not yours.
        r = await _send(client, method, path, body, world.owner_a.headers(**{"X-Organization-Id": str(uuid4())}))
        assert r.status_code == 404, (method, path, r.text)
        # Someone with no organisation at all.
        assert (await _send(client, method, path, body, stranger.headers())).status_code == 404
    # Nothing changed in B.
    async with db.as_service() as conn:
        assert (await (await conn.execute("select name from agent_configs where id = %s", (world.agent_b,))).fetchone())["name"] == "Beta receptionist"


async def test_missing_scope_is_403_on_every_route(client: httpx.AsyncClient, world: World) -> None:
    for method, path, scope, body in routes(world):
        # The token is narrowed to every scope but the one needed.
        others = sorted({"read", "write", "admin:secrets"} - {scope})
        narrowed = world.owner_a.token_with(scopes=others)
        r = await _send(client, method, path, body, {"Authorization": f"Bearer {narrowed}"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden" and scope in r.json()["message"], (method, path, r.text)
        # A plain member has read and write, never admin:secrets.
        r = await _send(client, method, path, body, world.member_a.headers())
        admins_only = scope == "admin:secrets" or (method, _template(path, world)) in ADMINS
        assert (r.status_code == 403) == admins_only, (method, path, r.status_code)


async def test_the_organisation_comes_from_the_token_the_header_or_the_only_membership(client: httpx.AsyncClient, world: World, db) -> None:
    async with db.as_service() as conn:
        await conn.execute("insert into memberships (organization_id, user_id, role) values (%s, %s, 'member')", (world.org_b, world.owner_a.id))
    # Member of two: the header chooses, or the token's claim (top level or app_metadata).
    r = await client.get("/api/agents", headers=world.owner_a.headers())
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "X-Organization-Id"
    names = lambda r: [a["name"] for a in r.json()["items"]]  # noqa: E731
    r = await client.get("/api/agents", headers=world.owner_a.headers(**{"X-Organization-Id": str(world.org_b)}))
    assert names(r) == ["Beta receptionist"]
    token = world.owner_a.token_with(organization_id=str(world.org_b))
    assert names(await client.get("/api/agents", headers={"Authorization": f"Bearer {token}"})) == ["Beta receptionist"]
    token = world.owner_a.token_with(app_metadata={"organization_id": str(world.org_a)})
    assert names(await client.get("/api/agents", headers={"Authorization": f"Bearer {token}"})) == ["Alpha receptionist"]
    # In B owner_a is a plain member: no secrets there.
    r = await client.put(f"{ORG}/openai-llm/secrets", headers=world.owner_a.headers(**{"X-Organization-Id": str(world.org_b)}),
                         json={"secrets": {"api_key": "sk-access-test-0000"}})
    assert r.status_code == 403
    # One membership: no choice needed.
    assert names(await client.get("/api/agents", headers=world.member_a.headers())) == ["Alpha receptionist"]
    r = await client.get("/api/agents", headers=world.owner_a.headers(**{"X-Organization-Id": "not-a-uuid"}))
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "x-organization-id"


@pytest.mark.parametrize("role, claim, expected", [
    ("member", None, {"read", "write"}),
    ("admin", None, {"read", "write", "admin:secrets"}),
    ("owner", None, {"read", "write", "admin:secrets"}),
    ("owner", ["read"], {"read"}),
    ("owner", "read admin:secrets", {"read", "admin:secrets"}),
    ("member", ["read", "admin:secrets"], {"read"}),
    ("admin", ["livekit:read", "livekit:write"], {"read", "write"}),
    ("owner", [], set()),
])
def test_scopes_are_the_role_narrowed_by_the_token(role, claim, expected) -> None:
    claims = Claims(sub=uuid4(), **({} if claim is None else {"scopes": claim}))
    assert scopes_for(role, claims) == expected
