"""One call handled by the worker: the organisation's chains, the agent with its tools, the
AgentSession, and the end-of-call report written through `switchboard.ingest`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from livekit import rtc
from livekit.agents import Agent, AgentSession, APIConnectOptions, inference
from livekit.agents.types import NOT_GIVEN
from livekit.agents.vad import VAD
from livekit.agents.voice.agent_session import SessionConnectOptions
from livekit.agents.voice.events import CloseEvent
from livekit.agents.voice.room_io import RoomOptions

from agent_worker import quota_watch
from agent_worker.chains import Chains, build_chains
from agent_worker.latency import call_latency, turn_latencies
from agent_worker.report import call_usage, transcript
from agent_worker.tools import CallOutcome, build_tools, tool_client
from agent_worker.vendors import Factory
from switchboard.billing import load_price_book
from switchboard.db import database_unavailable
from switchboard.ingest import record_call_event
from switchboard.pipeline.config import PipelineConfig
from switchboard.providers.livekit.dispatch import DispatchMetadata
from switchboard.providers.livekit.platform import CODE as LIVEKIT
from switchboard.spec import AgentSpec, CallEvent

log = logging.getLogger(__name__)

# The chains fail over inside; if every vendor of a chain failed, try the whole chain once more.
_WHOLE_CHAIN = APIConnectOptions(max_retry=1, retry_interval=0.5, timeout=10.0)
SESSION_CONN_OPTIONS = SessionConnectOptions(
    stt_conn_options=_WHOLE_CHAIN, llm_conn_options=_WHOLE_CHAIN, tts_conn_options=_WHOLE_CHAIN
)
DEFAULT_INSTRUCTIONS = "You are a helpful, concise voice assistant on a phone call."
TIME_LIMIT_MESSAGE = "We have reached the time limit for this call. Thank you for calling, goodbye."


class SwitchboardAgent(Agent):
    def __init__(self, spec: AgentSpec, tools: list) -> None:
        instructions = spec.prompt.strip() or DEFAULT_INSTRUCTIONS
        if spec.language and not spec.language.lower().startswith("en"):
            instructions += f"\n\nSpeak {spec.language}."
        super().__init__(instructions=instructions, tools=tools)
        self.spec = spec

    async def on_enter(self) -> None:
        if self.spec.begin_message:
            self.session.say(self.spec.begin_message)  # spoken verbatim, as Retell and Vapi do
        else:
            self.session.generate_reply(instructions="Greet the caller briefly and offer your help.")


class Call:
    def __init__(
        self,
        *,
        runtime,  # agent_worker.server.WorkerRuntime
        meta: DispatchMetadata,
        pipeline: PipelineConfig,
        job_id: str,
        room_name: str,
        room_sid: str,
        vad: VAD,
        turn_detection: bool = False,
        factories: dict[str, Factory] | None = None,  # the catalog's (None); the benchmark's fixed-latency vendors
    ) -> None:
        self.runtime = runtime
        self.meta = meta
        self.pipeline = pipeline
        self.job_id = job_id
        self.room_name = room_name
        self.room_sid = room_sid
        # The platform's call id is the room's name, as the LiveKit adapter and LiveKit's own
        # webhooks name the call (each call gets its own room).
        self.provider_call_id = room_name or f"job:{job_id}"
        self.outcome = CallOutcome()
        self.sip: dict[str, str] = {}
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.close_reason: str | None = None
        self._started_monotonic: float | None = None
        self._finish_task: asyncio.Task | None = None
        self._time_limit: asyncio.TimerHandle | None = None
        self._start_write: asyncio.Future | None = None

        health = runtime.health
        self.chains: Chains = build_chains(
            pipeline, vad=vad, observer=health.observe if health else None, factories=factories
        )
        if health:
            health.attach(self.chains)
        allow_private = runtime.settings.env != "production"
        self._http = tool_client(allow_private=allow_private)
        tools = build_tools(pipeline.agent, client=self._http, outcome=self.outcome, allow_private_urls=allow_private)
        self.agent = SwitchboardAgent(pipeline.agent, tools)
        self.session: AgentSession = AgentSession(
            stt=self.chains.stt,
            llm=self.chains.llm,
            tts=self.chains.tts,
            vad=vad,
            turn_handling={
                "turn_detection": inference.TurnDetector(version="v1-mini") if turn_detection else None,
                "interruption": {"mode": "vad"},
            },
            conn_options=SESSION_CONN_OPTIONS,
            userdata=self,
        )
        self.session.on("close", self._on_close)

    # ---------------------------------------------------------------------------------------
    async def start(self, room: rtc.Room | None = None) -> None:
        self.started_at = datetime.now(timezone.utc)
        self._started_monotonic = time.monotonic()
        if room is not None:
            self._watch_sip(room)
        # In the background: the caller must not wait on the database to hear the greeting (the
        # end-of-call report merges with it in either order).
        self._start_write = asyncio.ensure_future(self._write(self.start_event(), what="call start"))
        # Vendors that publish their remaining quota: read, kept for the health page, and an
        # exhausted one held out until its reset (agent_worker.quota_watch).
        self._quota_read = asyncio.ensure_future(quota_watch.refresh(self.runtime.db, self.pipeline))
        await self.session.start(
            agent=self.agent,
            room=room if room is not None else NOT_GIVEN,
            room_options=RoomOptions(close_on_disconnect=True) if room is not None else NOT_GIVEN,
        )
        self._time_limit = asyncio.get_running_loop().call_later(
            self.pipeline.agent.max_duration_seconds, self._on_time_limit
        )
        log.info(
            "call %s started: organisation %s, chains %s (config from %s)",
            self.provider_call_id, self.meta.organization_id, self.chains.keys, self.pipeline.source,
        )

    def _watch_sip(self, room: rtc.Room) -> None:
        def remember(p: rtc.RemoteParticipant) -> None:
            if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP and not self.sip:
                self.sip = dict(p.attributes)

        for participant in room.remote_participants.values():
            remember(participant)
        room.on("participant_connected", remember)

    def _on_time_limit(self) -> None:
        log.info("call %s reached its %ss limit", self.provider_call_id, self.pipeline.agent.max_duration_seconds)
        self.outcome.disconnection_reason = self.outcome.disconnection_reason or "max_duration_reached"
        handle = self.session.say(TIME_LIMIT_MESSAGE, allow_interruptions=False)
        handle.add_done_callback(lambda _: self.session.shutdown())

    def _on_close(self, ev: CloseEvent) -> None:
        self.close_reason = ev.reason.value if ev.reason else None
        self.finish()

    # ---------------------------------------------------------------------------------------
    @property
    def is_sip(self) -> bool:
        return bool(self.sip) or self.meta.telephony_call_id is not None

    def _event(self, kind: str, **fields: Any) -> CallEvent:
        return CallEvent(
            kind=kind,
            provider=LIVEKIT,
            event_id=f"{self.provider_call_id}:{self.job_id}:{kind}",
            event_type=f"session_{kind}",
            provider_call_id=self.provider_call_id,
            telephony_call_id=self.meta.telephony_call_id,
            organization_id=self.meta.organization_id,
            agent_config_id=self.meta.agent_config_id,
            call_record_id=self.meta.call_record_id,
            direction="inbound" if self.is_sip else "web",
            from_number=self.sip.get("sip.phoneNumber"),
            to_number=self.sip.get("sip.trunkPhoneNumber"),
            started_at=self.started_at,
            metadata={LIVEKIT: {"room": self.room_name, "room_sid": self.room_sid, "job_id": self.job_id}},
            **fields,
        )

    def start_event(self) -> CallEvent:
        """The call-started event (status ongoing), written when the session starts."""
        return self._event("started", status="ongoing")

    def report(self) -> CallEvent:
        """The end-of-call event (transcript, duration, priced usage, latency per turn)."""
        self.ended_at = self.ended_at or datetime.now(timezone.utc)
        duration = (self.ended_at - self.started_at).total_seconds() if self.started_at else 0.0
        turns = turn_latencies(self.session.history)
        text, entries = transcript(self.session.history, turns)
        model_usage = self.session.usage.model_usage
        return self._event(
            "ended",
            status="ended",
            ended_at=self.ended_at,
            duration_seconds=round(duration),
            transcript=text,
            transcript_object=entries,
            disconnection_reason=self.outcome.disconnection_reason or self.close_reason,
            latency=call_latency(turns),
            usage={
                **call_usage(model_usage, duration_seconds=duration, sip=self.is_sip).model_dump(mode="json"),
                "model_usage": [u.model_dump() for u in model_usage],
                "chains": self.chains.keys,
                "pipeline_source": self.pipeline.source,
                **({"transferred_to": self.outcome.transferred_to} if self.outcome.transferred_to else {}),
            },
        )

    def finish(self) -> asyncio.Task:
        """Write the end-of-call report once (idempotent; safe from the close event and the job's
        shutdown callback alike). The task's result is the call record's id, or None if not written."""
        if self._finish_task is None:
            self.ended_at = datetime.now(timezone.utc)
            self._finish_task = asyncio.ensure_future(self._finish())
        return self._finish_task

    async def _finish(self) -> UUID | None:
        if self._time_limit is not None:
            self._time_limit.cancel()
        if self._start_write is not None:
            await self._start_write
        result = await self._write(self.report(), what="end-of-call report")
        with contextlib.suppress(Exception):
            await self._http.aclose()
        with contextlib.suppress(Exception):
            await self.chains.aclose()
        if self.runtime.health:
            await self.runtime.health.flush()
        return result

    async def _write(self, event: CallEvent, *, what: str) -> UUID | None:
        db = self.runtime.db
        if db is None:
            log.error("call %s: %s not stored, no database configured", self.provider_call_id, what)
            return None
        try:
            async with asyncio.timeout(self.runtime.write_timeout):
                async with db.as_service() as conn:
                    prices = await load_price_book(conn)
                    return await record_call_event(conn, event, prices)
        except Exception as exc:
            if database_unavailable(exc):
                # Nobody will send this report again: keep it on disk until the database is back.
                path = self.runtime.spool.save(event)
                log.warning("call %s: database away (%s), %s kept in %s", self.provider_call_id,
                            type(exc).__name__, what, path)
                return None
            log.error("call %s: %s not stored (%s: %s)", self.provider_call_id, what, type(exc).__name__, exc)
            return None
