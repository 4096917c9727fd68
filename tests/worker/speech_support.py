"""What the speech vendors' contract tests share: the local vendor server, an organisation whose
chain puts one vendor first and the offline tier behind it, the caller's utterance (espeak-ng
speech at a LiveKit room's 48 kHz), and the price of what the chain's vendors reported."""

from __future__ import annotations

import time
from decimal import Decimal

from livekit import rtc
from livekit.agents.metrics import ModelUsageCollector

from agent_worker.chains import Chains, build_chains
from agent_worker.offline import ESpeakTTS
from agent_worker.report import call_usage
from switchboard.billing import CallUsage, load_price_book, price_usage_if_known
from switchboard.db import Database
from switchboard.pipeline.config import PipelineConfig, load_pipeline
from switchboard.pipeline.failover import QuotaBook
from switchboard.spec import CostBreakdown
from switchboard.secrets import put_secret
from switchboard.settings import Settings
from tests.worker.conftest import create_org

SPOKEN = "what are your opening hours"  # what the caller says (and the offline fallback hears)
ATTEMPT = 1.0  # the first vendor's attempt timeout in these tests


async def pipeline_for(db: Database, key: str, config: dict, *, secret: tuple[str, dict] | None = None,
                       voice: dict | None = None) -> PipelineConfig:
    """`key` first (with `config`), the offline tier behind it (PocketSphinx with a grammar, so
    what it hears is exact), and the organisation's secret stored."""
    org = await create_org(db, voice=voice, vendors=[
        (key, 100, True, {"attempt_timeout": ATTEMPT, **config}),
        ("pocketsphinx-stt", 10, True, {"keyphrases": [SPOKEN]}), ("local-llm", 10, True, {}), ("espeak-tts", 10, True, {}),
    ])
    async with db.as_service() as conn:
        if secret is not None:
            await put_secret(conn, org.id, secret[0], secret[1])
        return await load_pipeline(conn, org.id, org.agent_id, settings=Settings(_env_file=None))


async def chains_for(db: Database, vad, key: str, config: dict, *, secret: tuple[str, dict] | None = None,
                     voice: dict | None = None, quotas: QuotaBook | None = None) -> Chains:
    """One call's chains over `pipeline_for`'s organisation."""
    return build_chains(await pipeline_for(db, key, config, secret=secret, voice=voice), vad=vad, quotas=quotas)


async def recognize_call(pipeline: PipelineConfig, vad, quotas: QuotaBook | None = None):
    """One call's chains hear the caller's utterance: (event, metrics, frames, seconds, chain lines)."""
    chains = build_chains(pipeline, vad=vad, quotas=quotas)
    metrics = collect_metrics(chains)
    frames = await utterance()
    started = time.perf_counter()
    event = await chains.stt_fallback.recognize(frames)
    elapsed = time.perf_counter() - started
    lines = chains.guard.lines()
    await chains.aclose()
    return event, metrics, frames, elapsed, lines


def collect_metrics(chains: Chains) -> list:
    collected: list = []
    for members in chains.members.values():
        for member in members:
            member.on("metrics_collected", collected.append)
    return collected


async def utterance(rate: int = 48000) -> list[rtc.AudioFrame]:
    frame = rtc.combine_audio_frames([ev.frame async for ev in ESpeakTTS().synthesize(SPOKEN)])
    resampler = rtc.AudioResampler(frame.sample_rate, rate, num_channels=1)
    return resampler.push(frame) + resampler.flush()


async def priced(db: Database, metrics: list) -> tuple[CallUsage, CostBreakdown | None, dict]:
    """The vendors' usage as the call report prices it: (usage, cost or None if unpriced, prices)."""
    collector = ModelUsageCollector()
    for m in metrics:
        collector.collect(m)
    usage = call_usage(collector.flatten(), duration_seconds=0, sip=False)
    async with db.as_service() as conn:
        book = await load_price_book(conn)
    prices = {(p.subject, p.component, p.unit): p.usd_per_unit for p in book.prices}
    return usage, price_usage_if_known(book, usage), prices


def minutes_of(usage: CallUsage, key: str) -> Decimal:
    (item,) = [c for c in usage.components if c.subject == key]
    return item.minutes or Decimal(0)
