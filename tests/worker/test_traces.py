"""The worker's traces: one turn of a routed call in text mode (`AgentSession.run`) through the
real entrypoint produces livekit-agents' own turn spans in the call's trace, every span carrying
the call's ids (the carrier's call id, as routing names it), none carrying what was said."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from livekit.agents.testing import fake_job_context

from agent_worker import tracing
from agent_worker.server import WorkerRuntime, entrypoint
from switchboard.db import Database
from tests.support.tracing import Spans
from tests.worker.conftest import OFFLINE, create_org


@pytest.fixture
def worker_spans() -> Iterator[Spans]:
    exporter = Spans()
    assert tracing.configure(exporter=exporter) is not None
    yield exporter
    tracing.shutdown()


async def test_a_turn_makes_spans_carrying_the_call_id(db: Database, db_url: str, vad, worker_spans: Spans) -> None:
    org = await create_org(db, vendors=OFFLINE)
    record_id, telephony_id = uuid.uuid4(), f"sw-{uuid.uuid4().hex[:10]}"
    runtime = WorkerRuntime(database_url=db_url)
    try:
        metadata = org.metadata(call_record_id=str(record_id), telephony_call_id=telephony_id)
        with fake_job_context(job_metadata=metadata) as ctx:
            ctx.proc.userdata.update(vad=vad, runtime=runtime)
            call = await entrypoint(ctx)
            if call.session.current_speech is not None:  # the greeting first
                await call.session.current_speech
            worker_spans.clear()
            result = await call.session.run(user_input="Where are you?")
            result.expect.contains_message(role="assistant")
            await call.session.aclose()
            await call.finish()
    finally:
        await runtime.aclose()

    turn, llm, session = worker_spans.one("agent_turn"), worker_spans.one("llm_node"), worker_spans.one("agent_session")
    assert turn.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert llm.attributes["gen_ai.request.model"] == "rules-v1"  # the local LLM answered the turn
    assert llm.parent is not None and llm.context.trace_id == turn.context.trace_id == session.context.trace_id
    ids = {"switchboard.call_id": telephony_id, "switchboard.call_record_id": str(record_id),
           "switchboard.organization_id": str(org.id)}
    finished = worker_spans.get_finished_spans()
    assert len(finished) >= 5
    for span in finished:
        assert {k: span.attributes.get(k) for k in ids} == ids, span.name
    # ids and timings only: neither the caller's words nor the agent's answer leave the process
    said = worker_spans.attribute_values()
    assert not [v for v in said if "Where are you" in v or "High Street" in v]
