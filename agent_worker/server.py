"""The LiveKit Agents worker of the "livekit" platform: an `AgentServer` registered as agent
"switchboard" (explicit dispatch: the LiveKit adapter's dispatch rules name it and attach
`DispatchMetadata`). A thin shell: the organisation's pipeline, prices, ingestion and health
live in `switchboard/`; here they meet livekit-agents.

Each job runs in its own process (livekit's default executor): `prewarm` loads Silero VAD, checks
whether the local turn detector loads offline, warms PocketSphinx, and prepares the runtime (the
database pool opens in the job's event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path

from livekit.agents import AgentServer, JobContext, JobExecutorType, JobProcess, JobRequest
from livekit.plugins import silero

from agent_worker import tracing
from agent_worker.call import Call
from agent_worker.health import VendorHealth
from agent_worker.offline import pocketsphinx_stt
from switchboard import telemetry
from switchboard.db import Database, database_url
from switchboard.logs import bind
from switchboard.pipeline.config import (
    PipelineCache,
    PipelineConfig,
    PipelineConfigError,
    PipelineUnavailable,
    environment_pipeline,
)
from switchboard.providers.livekit.compile import ATTRIBUTE_PREFIX
from switchboard.providers.livekit.dispatch import AGENT_NAME, DispatchMetadata, InvalidDispatchMetadata
from switchboard.settings import Settings, get_settings
from switchboard.spool import ReportSpool

log = logging.getLogger("agent_worker")

JOB_EXECUTOR = JobExecutorType.PROCESS


class WorkerRuntime:
    """What a job process shares between its calls: the database pool, the pipeline cache and the
    vendor-health reporter. Started lazily in the job's event loop (pools are loop-bound)."""

    def __init__(
        self,
        *,
        database_url: str | None = None,
        settings: Settings | None = None,
        listen: bool = False,
        write_timeout: float = 10.0,
        spool_dir: Path | None = None,
        replay_interval: float = 30.0,
    ) -> None:
        self.settings = settings or get_settings()
        self.write_timeout = write_timeout
        # End-of-call reports that found the database away wait here (switchboard.spool).
        self.spool = ReportSpool(spool_dir or self.settings.data_dir / "spool" / "call-reports")
        self.replay_interval = replay_interval
        self._replaying: asyncio.Task | None = None
        self._database_url = database_url
        self._listen = listen
        self.db: Database | None = None
        self.cache: PipelineCache | None = None
        self.health: VendorHealth | None = None
        self._started = False
        self._lock = asyncio.Lock()

    async def ensure_started(self) -> "WorkerRuntime":
        async with self._lock:
            if self._started:
                return self
            self._started = True
            try:
                url = self._database_url or await asyncio.to_thread(database_url)
            except Exception as exc:  # e.g. no DATABASE_URL and no local Postgres to start
                log.error("no database for the worker (%s: %s)", type(exc).__name__, exc)
                self.health = VendorHealth(None)
                return self
            self.db = Database(url, min_size=1, max_size=4, name="agent-worker")
            await self.db.pool.open(wait=False)  # an unreachable database must not block start-up
            self.cache = PipelineCache(self.db, settings=self.settings)
            if self._listen:
                await self.cache.start()
            self.health = VendorHealth(self.db)
            await self.health.start()
            self._replaying = asyncio.create_task(self._replay_spool(), name="call-report-spool")
            return self

    async def _replay_spool(self) -> None:
        """Store reports spooled while the database was away: at start, then every
        `replay_interval` while any are left."""
        while True:
            if self.spool.pending() and self.db is not None:
                try:
                    await self.spool.replay(self.db)
                except Exception as exc:
                    log.warning("spooled call reports not stored yet (%s)", type(exc).__name__)
            await asyncio.sleep(self.replay_interval)

    async def pipeline(self, meta: DispatchMetadata) -> PipelineConfig:
        if self.cache is None:
            if not self.settings.provider_env_fallback:
                raise PipelineUnavailable("no database is configured for the worker and PROVIDER_ENV_FALLBACK is false")
            return environment_pipeline(meta.organization_id, meta.agent_config_id, settings=self.settings)
        return await self.cache.get(meta.organization_id, meta.agent_config_id)

    async def aclose(self) -> None:
        if self._replaying is not None:
            self._replaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replaying
            self._replaying = None
        if self.health:
            await self.health.aclose()
        if self.cache:
            await self.cache.aclose()
        if self.db:
            await self.db.close()
        self._started = False


def local_turn_detector_available() -> bool:
    """Whether livekit's local end-of-turn model loads here without a download."""
    try:
        from livekit.local_inference import EOT

        with EOT():
            return True
    except Exception as exc:
        log.warning("local turn detector unavailable (%s); turns end on VAD silence", exc)
        return False


def settle_heap() -> None:
    """What is loaded by now lives as long as the process: out of the collector's sight
    (gc.freeze), so a full collection during a call walks only the call's own objects. Unfrozen,
    one walks ~440k objects of libraries and models: 215-255 ms on the 2-core test machine, a gap
    in the caller's audio and the worst turn of bench/bench_audio.py."""
    gc.collect()
    gc.freeze()


def prewarm(proc: JobProcess) -> None:
    tracing.configure()
    proc.userdata["vad"] = silero.VAD.load()
    proc.userdata["turn_detection"] = local_turn_detector_available()
    pocketsphinx_stt.warm_up()
    proc.userdata["runtime"] = WorkerRuntime(listen=JOB_EXECUTOR == JobExecutorType.THREAD)
    settle_heap()


async def on_request(request: JobRequest) -> None:
    """Refuse a dispatch whose metadata is unusable before joining the room."""
    try:
        DispatchMetadata.parse(request.job.metadata)
    except InvalidDispatchMetadata as exc:
        log.error("job %s rejected: %s", request.id, exc)
        await request.reject()
        return
    await request.accept(name="Switchboard agent", identity=f"agent-{request.id}")


async def entrypoint(ctx: JobContext) -> Call | None:
    """One call: metadata → the organisation's pipeline → chains, agent, session → report at the end."""
    runtime: WorkerRuntime = ctx.proc.userdata.get("runtime") or WorkerRuntime()
    ctx.proc.userdata["runtime"] = runtime
    raw = ctx.job.metadata
    if not raw and ctx.is_fake_job():  # console mode: no dispatch, metadata from the settings
        raw = runtime.settings.console_metadata
    try:
        meta = DispatchMetadata.parse(raw)
    except InvalidDispatchMetadata as exc:
        log.error("job %s: %s", ctx.job.id, exc)
        ctx.shutdown(reason="invalid dispatch metadata")
        return None
    await runtime.ensure_started()
    if "vad" not in ctx.proc.userdata:
        ctx.proc.userdata["vad"] = silero.VAD.load()
    try:
        pipeline = await runtime.pipeline(meta)
    except (PipelineConfigError, PipelineUnavailable) as exc:
        log.error("job %s: cannot configure the call: %s", ctx.job.id, exc)
        ctx.shutdown(reason="no pipeline")
        return None

    # A fake job (console mode, tests) has no connected room: the session runs on its own I/O.
    use_room = not ctx.is_fake_job() or ctx.room.isconnected()
    caller = None
    if use_room:
        await ctx.connect()
        caller = await ctx.wait_for_participant()
        # An inbound SIP call's per-call ids ride on the SIP participant (the dispatch rule is standing).
        meta = meta.with_call_attributes(caller.attributes, ATTRIBUTE_PREFIX)

    call = Call(
        runtime=runtime, meta=meta, pipeline=pipeline, job_id=ctx.job.id, room_name=ctx.job.room.name,
        room_sid=ctx.job.room.sid, vad=ctx.proc.userdata["vad"],
        turn_detection=bool(ctx.proc.userdata.get("turn_detection")),
    )
    # Bound before the session starts its tasks (they inherit them): on every log line and span of the call.
    # The carrier's call id, as routing names the call — not the room's name: a SIP room is named after the caller.
    bind(call_id=meta.telephony_call_id or ctx.job.room.sid or f"job:{ctx.job.id}", call_record_id=meta.call_record_id,
         organization_id=meta.organization_id)
    await call.start(room=ctx.room if use_room else None)

    async def _write_report() -> None:
        await call.session.aclose()
        await call.finish()
        await asyncio.to_thread(telemetry.flush)  # the call's trace complete now, not at the next batch

    ctx.add_shutdown_callback(_write_report)
    return call


server = AgentServer(setup_fnc=prewarm, job_executor_type=JOB_EXECUTOR)
server.rtc_session(entrypoint, agent_name=AGENT_NAME, on_request=on_request)
