"""The demo suite run against a Prism-backed platform (Vapi's document): every scenario holds its
conversation through Vapi's chat API, each check is decided on what the mock answered, and the
scorecard has the platform's reported cost — no pair ends in an error."""

from __future__ import annotations

from switchboard.db import Database
from switchboard.demo import seed_demo
from switchboard.platforms import PlatformSource
from switchboard.scenarios import runner
from switchboard.scenarios.scorecard import report
from switchboard.settings import get_settings, reset_settings_cache
from tests.providers.conftest import prism_servers, vapi_prism  # noqa: F401


async def test_demo_suite_on_vapi_prism(db: Database, vapi_prism, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("VAPI_BASE_URL", vapi_prism.url)
    monkeypatch.setenv("VAPI_API_KEY", "vapi-private-key-test")
    reset_settings_cache()
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    source = PlatformSource(db, get_settings())
    try:
        run_id, results = await runner.run_suite(db, demo.claims, demo.organization_id, demo.agent_config_id, source,
                                                 platform="vapi")
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
    assert [c.platform for c in card] == ["vapi"] and card[0].scenarios == 5
