"""Remaining quota where the vendor publishes it: ElevenLabs `/v1/user/subscription` and
Deepgram's `/v1/projects` + `/v1/projects/{id}/balances`, served locally as those APIs document
them. The worker reads them with the organisation's key at call start, keeps them in
`vendor_quotas` (which the health report shows to that organisation only), and holds a vendor
whose quota is used up out of the chains until the published reset."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from aiohttp import web

from agent_worker import quota_watch
from switchboard import health_report
from switchboard.db import Database
from switchboard.pipeline.config import PipelineConfig, VendorSettings
from switchboard.pipeline.failover import QuotaBook
from switchboard.pipeline.quota_readers import read_remaining
from switchboard.providers.base import ProviderRejected
from switchboard.spec import AgentSpec
from tests.foundation.conftest import make_tenant
from tests.worker.conftest import serving

RESET = int(time.time()) + 10 * 86400  # next_character_count_reset_unix: in ten days


class QuotaServer:
    def __init__(self) -> None:
        self.used = 12_000
        self.balance = 4.2
        self.seen: list[tuple[str, dict]] = []

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v1/user/subscription", self.subscription), web.get("/v1/projects", self.projects),
                web.get("/v1/projects/{project}/balances", self.balances)]

    async def subscription(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, {k.lower(): v for k, v in request.headers.items()}))
        if request.headers.get("xi-api-key") != "el_org_key_123456":
            return web.json_response({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, status=401)
        return web.json_response({"tier": "creator", "character_count": self.used, "character_limit": 100_000,
                                  "can_extend_character_limit": False, "next_character_count_reset_unix": RESET,
                                  "voice_limit": 30, "status": "active"})

    async def projects(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, {k.lower(): v for k, v in request.headers.items()}))
        return web.json_response({"projects": [{"project_id": "3a1b-proj", "name": "Demo Dental"}]})

    async def balances(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, {k.lower(): v for k, v in request.headers.items()}))
        return web.json_response({"balances": [{"balance_id": "b1", "amount": self.balance, "units": "usd",
                                                "purchase_order_id": "po1"}]})


@pytest.fixture
async def quota_server():
    async with serving(QuotaServer()) as srv:
        yield srv


def _pipeline(org_id, url: str) -> PipelineConfig:
    def vendor(key, type_, name, secret):
        return VendorSettings(key=key, type=type_, vendor=name, name=name, priority=100,
                              config={"base_url": url, "api_key": secret}, secret_fields=frozenset({"api_key"}),
                              credential_source="organization")

    return PipelineConfig(
        organization_id=org_id, agent_config_id=None, agent=AgentSpec(prompt="You are a receptionist."),
        stt=[vendor("deepgram-stt", "stt", "deepgram", "dg_org_key_123456")],
        llm=[], tts=[vendor("elevenlabs-tts", "tts", "elevenlabs", "el_org_key_123456")],
    )


async def test_elevenlabs_and_deepgram_remaining_quota_is_read_with_the_organisations_key(quota_server) -> None:
    el = await read_remaining("elevenlabs", {"api_key": "el_org_key_123456", "base_url": quota_server.url})
    assert (el.remaining, el.limit, el.unit) == (Decimal(88_000), Decimal(100_000), "characters")
    assert el.resets_at == datetime.fromtimestamp(RESET, UTC) and not el.exhausted
    dg = await read_remaining("deepgram", {"api_key": "dg_org_key_123456", "base_url": quota_server.url})
    assert dg.remaining == Decimal("4.2") and dg.unit == "usd" and dg.resets_at is None
    assert [p for p, _ in quota_server.seen] == ["/v1/user/subscription", "/v1/projects", "/v1/projects/3a1b-proj/balances"]
    assert all(h["authorization"] == "Token dg_org_key_123456" for p, h in quota_server.seen if "projects" in p)
    assert await read_remaining("openai", {"api_key": "sk-x"}) is None  # publishes none

    with pytest.raises(ProviderRejected) as refused:
        await read_remaining("elevenlabs", {"api_key": "el_wrong_key_000", "base_url": quota_server.url})
    assert refused.value.message == "refused the key (401) when asked for the remaining quota"
    assert "Invalid API key" not in str(refused.value)  # the vendor's words stay out


async def test_the_worker_keeps_the_reading_holds_a_used_up_vendor_and_the_health_report_shows_it(
    db: Database, quota_server
) -> None:
    alpha, beta = await make_tenant(db, "Alpha"), await make_tenant(db, "Beta")
    quota_server.used = 100_000  # ElevenLabs: used up until the reset
    quotas = QuotaBook()
    readings = await quota_watch.refresh(db, _pipeline(alpha.org_id, quota_server.url), quotas=quotas, force=True)
    assert {r.vendor: r.exhausted for r in readings} == {"deepgram": False, "elevenlabs": True}
    hold = quotas.hold(str(alpha.org_id), "elevenlabs-tts")
    assert hold is not None and hold.until == RESET and hold.reason == "quota used up"
    assert quotas.hold(str(alpha.org_id), "deepgram-stt") is None
    assert quotas.hold(str(beta.org_id), "elevenlabs-tts") is None  # another organisation's key

    # Read again within the interval: not asked again.
    asked = len(quota_server.seen)
    await quota_watch.refresh(db, _pipeline(alpha.org_id, quota_server.url), quotas=quotas)
    assert len(quota_server.seen) == asked

    async with db.as_user(alpha.member) as conn:
        rows = {r["vendor"]: r for r in await (await conn.execute("select * from vendor_quotas")).fetchall()}
    assert rows["elevenlabs"]["remaining"] == 0 and rows["deepgram"]["remaining"] == Decimal("4.2")
    async with db.as_user(beta.owner) as conn:
        assert (await (await conn.execute("select count(*) as n from vendor_quotas")).fetchone())["n"] == 0


async def test_the_health_report_lists_vendors_with_their_attempts_and_quota(db: Database, quota_server) -> None:
    from switchboard.health import CircuitBreaker

    alpha = await make_tenant(db, "Alpha")
    async with db.as_service() as conn:
        await conn.execute(
            "insert into organization_provider_configs (organization_id, provider_id, config, is_enabled, priority) "
            "select %s, id, '{}', true, 50 from providers where key = 'anthropic-llm'", (alpha.org_id,))
    breaker = CircuitBreaker(db)
    for ok, ms in [(True, 300.0), (True, 500.0), (False, 5000.0)]:
        await breaker.outcome("anthropic-llm", "vendor", ok, ms)
    await breaker.flush()
    pipeline = _pipeline(alpha.org_id, quota_server.url)
    await quota_watch.refresh(db, pipeline, quotas=QuotaBook(), force=True)
    async with db.as_user(alpha.member) as conn:
        report = {v.key: v for v in await health_report.vendor_health(conn, hours=1)}
    claude = report["anthropic-llm"]
    assert claude.attempts == 3 and claude.success_rate == pytest.approx(2 / 3) and claude.type == "llm"
    assert claude.quota_remaining is None  # Anthropic publishes no remaining quota

    words = health_report.VendorHealth(
        key="elevenlabs-tts", name="ElevenLabs", type="tts", attempts=0, success_rate=None, avg_latency_ms=None,
        max_latency_ms=None, quota_remaining=Decimal(88_000), quota_limit=Decimal(100_000), quota_unit="characters",
        quota_resets_at=datetime.fromtimestamp(RESET, UTC)).quota_words()
    assert words == f"88,000 characters left of 100,000 · resets {datetime.fromtimestamp(RESET, UTC):%d %b %Y %H:%M} UTC"
    used_up = health_report.VendorHealth(key="deepgram-stt", name="Deepgram", type="stt", attempts=0, success_rate=None,
                                         avg_latency_ms=None, max_latency_ms=None, quota_remaining=Decimal(0), quota_unit="usd")
    assert used_up.quota_words() == "Quota used up: calls use the next vendor"
