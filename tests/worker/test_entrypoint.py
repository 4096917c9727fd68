"""The worker's entrypoint under livekit's `fake_job_context`, with an organisation's pipeline
from the real database: chains in the organisation's order, a text conversation, and the
end-of-call report (transcript, duration, priced usage) in call_records and provider_usage."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from livekit.agents.testing import fake_job_context

from agent_worker.server import WorkerRuntime, entrypoint
from switchboard.db import Database
from tests.worker.conftest import OFFLINE, create_org


async def _run_call(db: Database, db_url: str, vad, metadata: str, *, user_inputs=("What are your opening hours?",)):
    runtime = WorkerRuntime(database_url=db_url)
    try:
        with fake_job_context(job_metadata=metadata, job_id=f"job-{uuid.uuid4().hex[:8]}") as ctx:
            ctx.proc.userdata.update(vad=vad, runtime=runtime, turn_detection=False)
            call = await entrypoint(ctx)
            assert call is not None
            if call.session.current_speech is not None:  # let the greeting finish, as a caller would
                await call.session.current_speech
            runs = []
            for text in user_inputs:
                runs.append(await call.session.run(user_input=text))
            await call.session.aclose()
            result = await call.finish()
        return call, runs, result
    finally:
        await runtime.aclose()


async def test_entrypoint_builds_the_organisations_chains_and_reports_the_call(db: Database, db_url: str, vad) -> None:
    org = await create_org(
        db,
        vendors=[
            ("local-llm", 50, True, {"fallback_reply": "Let me take a message."}),
            ("openai-llm", 100, False, {}),  # disabled: never built
            ("pocketsphinx-stt", 10, True, {}),
            ("espeak-tts", 10, True, {"rate": 160}),
        ],
    )
    call, runs, result = await _run_call(db, db_url, vad, org.metadata())

    assert call.chains.keys == {"stt": ["pocketsphinx-stt"], "llm": ["local-llm"], "tts": ["espeak-tts"]}
    runs[0].expect.next_event().is_message(role="assistant")
    assert "9am to 5pm" in runs[0].events[-1].item.text_content

    assert result is not None
    async with db.as_service() as conn:
        rec = await (await conn.execute("select * from call_records where id = %s", (result,))).fetchone()
        usage = await (await conn.execute("select * from provider_usage where call_id = %s", (rec["id"],))).fetchone()
        platform_price = (await (await conn.execute(
            "select usd_per_unit from price_book where subject = 'livekit' and component = 'platform'"
        )).fetchone())["usd_per_unit"]
    assert rec["organization_id"] == org.id and rec["agent_config_id"] == org.agent_id
    assert rec["status"] == "ended" and rec["direction"] == "web"
    assert rec["transcript"].splitlines() == [
        "Agent: Welcome to Demo Dental, how can I help?",
        "User: What are your opening hours?",
        "Agent: Our opening hours are 9am to 5pm, Monday to Friday.",
    ]
    assert rec["ended_at"] >= rec["started_at"]
    assert usage["cost_source"] == "computed"
    # offline vendors cost 0; the platform minute price comes from price_book
    seconds = (rec["ended_at"] - rec["started_at"]).total_seconds()
    expected_platform = Decimal(str(seconds / 60)) * platform_price
    assert usage["platform_cost"] == pytest.approx(expected_platform, abs=Decimal("0.000002"))
    assert usage["stt_cost"] == usage["llm_cost"] == usage["tts_cost"] == usage["telephony_cost"] == 0
    components = {c["subject"]: c for c in usage["details"]["usage"]["components"]}
    assert components["local-llm"]["output_tokens"] > 0  # the replies' tokens were counted


async def test_invalid_metadata_ends_the_job_without_a_session(db_url: str, vad) -> None:
    runtime = WorkerRuntime(database_url=db_url)
    with fake_job_context(job_metadata='{"organization_id": "nope"}') as ctx:
        ctx.proc.userdata.update(vad=vad, runtime=runtime)
        assert await entrypoint(ctx) is None
    await runtime.aclose()


async def test_another_organisations_agent_is_refused(db: Database, db_url: str, vad) -> None:
    mine = await create_org(db, vendors=OFFLINE)
    theirs = await create_org(db, name="Other", vendors=OFFLINE)
    runtime = WorkerRuntime(database_url=db_url)
    meta = json.dumps({"organization_id": str(mine.id), "agent_config_id": str(theirs.agent_id)})
    with fake_job_context(job_metadata=meta) as ctx:
        ctx.proc.userdata.update(vad=vad, runtime=runtime)
        assert await entrypoint(ctx) is None
    await runtime.aclose()


def test_what_prewarm_loaded_is_out_of_the_collectors_sight() -> None:
    """After prewarm, a full collection during a call walks the call's own objects, not the
    libraries' and models' (settle_heap freezes them)."""
    import gc

    from agent_worker.server import settle_heap

    tracked = len(gc.get_objects())
    try:
        settle_heap()
        assert gc.get_freeze_count() > tracked // 2
        assert len(gc.get_objects()) < tracked // 10
    finally:
        gc.unfreeze()
