"""Issue #11 (operator key theft): an environment key (OPENAI_API_KEY, CARTESIA_API_KEY, the
platforms' RETELL_API_KEY / VAPI_API_KEY / SIGNALWIRE_* / LIVEKIT_*) goes only to the
operator's URL. A tenant that points a vendor or platform at its own server must bring its own
key: the worker skips the vendor, the platform is refused in words. Each test runs a local
server standing in for the tenant's and checks it never sees the operator's credentials."""

from __future__ import annotations

import pytest

from switchboard.db import Database
from switchboard.providers.base import ProviderCredentials, ProviderRejected
from switchboard.providers.resilience import RetryPolicy
from switchboard.settings import Settings, reset_settings_cache
from switchboard.spec import AgentSpec
from tests.security.egress_support import RecordingServer, local, marker_body
from tests.worker.conftest import create_org
from tests.worker.doubles import opening_hours_reply

OPERATOR_OPENAI = "sk-operator-openai-key-0001"
FAST = RetryPolicy(attempts=1, attempt_timeout=2.0)


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    reset_settings_cache()


def _settings(**env) -> Settings:
    return Settings(_env_file=None, **env)


@pytest.mark.parametrize("key", ["openai-llm", "openai-stt", "openai-tts"])
async def test_operator_openai_key_is_never_sent_to_a_tenant_base_url(db: Database, key: str, caplog) -> None:
    from agent_worker.chains import build_chains
    from switchboard.pipeline.config import PipelineCache

    async with RecordingServer(status=500, body=marker_body()) as tenant:
        org = await create_org(db, vendors=[(key, 100, True, {"base_url": tenant.url + "/v1"}),
                                            ("local-llm", 10, True, {}), ("espeak-tts", 10, True, {}),
                                            ("pocketsphinx-stt", 10, True, {})])
        settings = _settings(OPENAI_API_KEY=OPERATOR_OPENAI)
        config = await PipelineCache(db, settings=settings).get(org.id, org.agent_id)  # as the worker loads it
        chains = build_chains(config, vad=None)
        try:
            assert key not in chains.keys[key.split("-")[1]], "the vendor must be skipped"
            assert f"vendor {key} skipped" in caplog.text
            await opening_hours_reply(chains.llm)  # a turn of the call: whatever is in the chain is used
        finally:
            await chains.aclose()
        assert not any(OPERATOR_OPENAI in a for a in tenant.authorizations())
        assert tenant.requests == []


async def test_operator_key_with_a_tenant_base_url_is_refused_by_the_worker_factory_too(monkeypatch) -> None:
    """A second lock: a resolved vendor holding the operator's key and a foreign URL (an old
    cache entry, a hand-made config) is not built."""
    from agent_worker.vendors import BuildContext, VendorUnavailable, openai_llm
    from switchboard.pipeline.config import VendorSettings

    local(monkeypatch, OPENAI_API_KEY=OPERATOR_OPENAI)
    v = VendorSettings(key="openai-llm", type="llm", vendor="openai", name="OpenAI", priority=100,
                       config={"model": "gpt-4o-mini", "base_url": "http://127.0.0.1:9/v1", "api_key": OPERATOR_OPENAI},
                       secret_fields=frozenset({"api_key"}), credential_source="environment")
    with pytest.raises(VendorUnavailable, match="custom base_url needs the organisation's own key"):
        openai_llm(v, BuildContext(agent=AgentSpec(prompt="p"), vad=None))


def _operator_env(monkeypatch) -> None:
    local(monkeypatch, RETELL_API_KEY="key_operator_retell_0001", VAPI_API_KEY="operator-vapi-key-0001",
          SIGNALWIRE_PROJECT_ID="operator-project-0001", SIGNALWIRE_API_TOKEN="PToperatortoken0001",
          SIGNALWIRE_SPACE_URL="operator.signalwire.com", LIVEKIT_URL="wss://operator.livekit.cloud",
          LIVEKIT_API_KEY="APIoperator0001", LIVEKIT_API_SECRET="operator-livekit-secret-000000000001")


@pytest.mark.parametrize(("code", "override"), [
    ("retell", {"base_url": "{url}"}),
    ("vapi", {"base_url": "{url}"}),
    ("signalwire", {"values": {"space_url": "{url}"}}),
    ("livekit", {"values": {"url": "{url}"}}),
])
async def test_operator_platform_key_never_follows_a_tenant_base_url(monkeypatch, code: str, override: dict) -> None:
    from switchboard.providers.registry import get_provider

    async with RecordingServer(status=401, body=marker_body()) as tenant:
        _operator_env(monkeypatch)
        creds = ProviderCredentials(
            base_url=override.get("base_url", "").format(url=tenant.url) or None,
            values={k: v.format(url=tenant.url) for k, v in override.get("values", {}).items()},
        )
        with pytest.raises(ProviderRejected, match="bring your own key to use a custom base URL"):
            provider = get_provider(code, creds, retry=FAST)
            try:
                await provider.create_agent(AgentSpec(prompt="You are the front desk.", voice={"vendor": "openai", "voice_id": "alloy"}))
            finally:
                await provider.aclose()
        assert tenant.requests == []


async def test_a_tenant_with_its_own_key_may_use_its_own_base_url(monkeypatch) -> None:
    from switchboard.providers.registry import get_provider

    async with RecordingServer(status=200, body=b"[]") as tenant:
        _operator_env(monkeypatch)
        provider = get_provider("retell", ProviderCredentials(values={"api_key": "key_tenant_own_0001"}, base_url=tenant.url),
                                retry=FAST)
        await provider.list_voices()
        await provider.aclose()
        assert tenant.authorizations() == ["Bearer key_tenant_own_0001"]
