"""The demo suite run against each Prism-backed platform (Retell's, Vapi's and SignalWire's
documents in tests/contracts/): every scenario holds its conversation through the platform's chat
API, each check is decided on what the mock answered (a failure names its check and quotes the
reply), and the scorecard has the platform's row — no pair ends in an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.db import Database
from switchboard.demo import seed_demo
from switchboard.platforms import PlatformSource
from switchboard.scenarios import runner
from switchboard.scenarios.scorecard import report
from switchboard.settings import get_settings, reset_settings_cache
from tests.providers.conftest import MOCK_DOCUMENTS, prism_servers  # noqa: F401
from tests.support.prism import CONTRACTS, PrismServer, running_prism


@pytest.fixture(scope="module")
def retell_dynamic() -> Iterator[PrismServer]:
    """Retell's document answered from its schemas (`prism --dynamic`): each chat gets its own
    id, as on Retell (the static examples give every chat the same one)."""
    with running_prism(CONTRACTS / MOCK_DOCUMENTS["retell"], dynamic=True) as server:
        yield server


# platform → (its mock, the operator's variables pointing it at the mock)
PLATFORMS = {
    "retell": ("retell_dynamic", lambda url: {"RETELL_BASE_URL": url, "RETELL_API_KEY": "key_test_retell"}),
    "vapi": ("vapi", lambda url: {"VAPI_BASE_URL": url, "VAPI_API_KEY": "vapi-private-key-test"}),
    "signalwire": ("signalwire", lambda url: {"SIGNALWIRE_SPACE_URL": url, "SIGNALWIRE_API_TOKEN": "PT_token",
                                              "SIGNALWIRE_PROJECT_ID": "b4a4c8b6-0c5e-4a7e-9f1f-3a2b1c0d9e8f"}),
}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
async def test_demo_suite_on_a_prism_platform(db: Database, prism_servers, platform, request, monkeypatch) -> None:  # noqa: F811
    mock, variables = PLATFORMS[platform]
    server = request.getfixturevalue(mock) if mock == "retell_dynamic" else prism_servers[mock].wait_ready()
    for name, value in variables(server.url).items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    if platform == "retell":  # the demo's Retell agent as a sync leaves it: a Retell LLM answers its chats
        async with db.as_service() as conn:
            await conn.execute("update provider_configs set llm_id = 'llm_234sdertfsdsfsdf' where agent_config_id = %s "
                               "and provider_id = (select id from voice_ai_providers where code = 'retell')",
                               (demo.agent_config_id,))
    source = PlatformSource(db, get_settings())
    try:
        run_id, results = await runner.run_suite(db, demo.claims, demo.organization_id, demo.agent_config_id, source,
                                                 platform=platform)
    finally:
        await source.aclose()
        reset_settings_cache()
    assert len(results) == 5
    assert [r.error for r in results if r.outcome == "error"] == []
    assert all(r.conversation_id and len(r.turn_latency_ms) == 1 for r in results)
    for r in results:  # a failure names its check and quotes what the mock replied
        assert all(c.message and c.message.startswith(f"turn {c.turn}, {c.check}") or c.turn is None for c in r.failures)
    async with db.as_user(demo.claims) as conn:
        card = (await report(conn, demo.organization_id, run_id)).scorecard
    assert [c.platform for c in card] == [platform] and card[0].scenarios == 5
