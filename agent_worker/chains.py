"""An organisation's pipeline → livekit FallbackAdapters, one per service, in priority order.

Every vendor is wrapped with its attempt timeout (agent_worker.bounded); the adapters do not retry
a vendor (they fail over), so an error reaches the next vendor at once and a hang after
`attempt_timeout`. A vendor without a factory, or one that cannot serve (no key), is skipped with
a log line; a chain left empty gets the catalog's offline vendor so the call still has a voice.

STT: `StreamAdapter(FallbackAdapter([...]), vad)` — the VAD cuts utterances and each utterance is
recognised through the adapter, so when a vendor fails the next one hears the same audio.
TTS: the FallbackAdapter is sentence-at-a-time; the session streams through it sentence by
sentence, and a failed sentence is spoken again by the next vendor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from livekit.agents import llm, stt, tts
from livekit.agents.vad import VAD

from agent_worker.bounded import AttemptObserver, BoundedLLM, BoundedSTT, BoundedTTS
from agent_worker.failover import ChainGuard
from agent_worker.vendors import FACTORIES, BuildContext, Factory, VendorUnavailable
from switchboard.pipeline.entry import ServiceType
from switchboard.pipeline.config import PipelineConfig, VendorSettings, always_available
from switchboard.pipeline.failover import QuotaBook

log = logging.getLogger(__name__)


class ChainError(RuntimeError):
    """No vendor at all could be built for a service (not even the offline tier)."""


@dataclass
class Chains:
    stt: stt.STT  # what the session uses (the stream adapter)
    stt_fallback: stt.FallbackAdapter
    llm: llm.FallbackAdapter
    tts: tts.FallbackAdapter
    members: dict[str, list]  # service → the wrapped vendors, in the order they are tried
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    guard: ChainGuard | None = None  # quota holds and the chains' log lines

    @property
    def keys(self) -> dict[str, list[str]]:
        return {service: [m.key for m in members] for service, members in self.members.items()}

    async def aclose(self) -> None:
        for adapter in (self.stt, self.stt_fallback, self.llm, self.tts):
            await adapter.aclose()
        for members in self.members.values():  # the adapters do not close their members
            for member in members:
                await member.aclose()


def _wrap(service: ServiceType, inner, v: VendorSettings, vad: VAD, observer: AttemptObserver | None):
    timeout = v.attempt_timeout
    if service == "stt":
        return BoundedSTT(inner, key=v.key, attempt_timeout=timeout, vad=vad, observer=observer)
    if service == "llm":
        return BoundedLLM(inner, key=v.key, attempt_timeout=timeout, observer=observer)
    return BoundedTTS(inner, key=v.key, attempt_timeout=timeout, observer=observer)


def _guard(pipeline: PipelineConfig, members: dict[str, list], quotas: QuotaBook | None) -> ChainGuard:
    """The call's failover guard, given to every member; logs each chain's line once."""
    guard = ChainGuard(str(pipeline.organization_id), {s: [m.key for m in ms] for s, ms in members.items()}, quotas)
    for service_members in members.values():
        for member in service_members:
            member._guard = guard
    guard.log_all()
    return guard


def _build_members(
    service: ServiceType,
    vendors: list[VendorSettings],
    ctx: BuildContext,
    factories: dict[str, Factory],
    observer: AttemptObserver | None,
    skipped: list[tuple[str, str]],
) -> list:
    members = []
    for v in vendors:
        factory = factories.get(v.key)
        if factory is None:
            skipped.append((v.key, "no factory in this worker"))
            log.warning("%s vendor %s skipped: this worker has no factory for it", service, v.key)
            continue
        try:
            inner = factory(v, ctx)
        except VendorUnavailable as exc:
            skipped.append((v.key, str(exc)))
            log.warning("%s vendor %s skipped: %s", service, v.key, exc)
            continue
        except Exception as exc:  # a bad config value must not take the call down
            skipped.append((v.key, f"{type(exc).__name__}: {exc}"))
            log.warning("%s vendor %s skipped: cannot be built (%s: %s)", service, v.key, type(exc).__name__, exc)
            continue
        members.append(_wrap(service, inner, v, ctx.vad, observer))
    return members


def _chain_members(service: ServiceType, pipeline: PipelineConfig, ctx: BuildContext, factories: dict[str, Factory],
                   observer: AttemptObserver | None, skipped: list[tuple[str, str]]) -> list:
    """The service's vendors in order, or the offline tier when none of them can serve."""
    built = _build_members(service, pipeline.chain(service), ctx, factories, observer, skipped)
    if not built:
        log.warning("no usable %s vendor for organisation %s; using the offline tier", service, pipeline.organization_id)
        built = _build_members(service, always_available(service), ctx, factories, observer, skipped)
    if not built:
        raise ChainError(f"no {service} vendor could be built for organisation {pipeline.organization_id}")
    return built


def build_chains(
    pipeline: PipelineConfig,
    *,
    vad: VAD,
    observer: AttemptObserver | None = None,
    factories: dict[str, Factory] | None = None,
    quotas: QuotaBook | None = None,
) -> Chains:
    factories = FACTORIES if factories is None else factories
    ctx = BuildContext(agent=pipeline.agent, vad=vad)
    skipped: list[tuple[str, str]] = []
    members: dict[str, list] = {}
    for service in ("stt", "llm", "tts"):
        members[service] = _chain_members(service, pipeline, ctx, factories, observer, skipped)

    def longest(service: str) -> float:
        return max(m._attempt_timeout for m in members[service])

    stt_fallback = stt.FallbackAdapter(
        members["stt"], attempt_timeout=longest("stt"), max_retry_per_stt=0, retry_interval=0
    )
    return Chains(
        stt=stt.StreamAdapter(stt=stt_fallback, vad=vad),
        stt_fallback=stt_fallback,
        llm=llm.FallbackAdapter(
            members["llm"], attempt_timeout=longest("llm"), max_retry_per_llm=0, retry_interval=0
        ),
        tts=tts.FallbackAdapter(members["tts"], max_retry_per_tts=0),
        members=members,
        skipped=skipped,
        guard=_guard(pipeline, members, quotas),
    )


def build_llm_chain(
    pipeline: PipelineConfig,
    *,
    observer: AttemptObserver | None = None,
    factories: dict[str, Factory] | None = None,
) -> tuple[llm.FallbackAdapter, list]:
    """The organisation's LLM chain alone, for text conversations (no audio, so no STT, TTS or
    VAD): the adapter and its members (the caller closes both)."""
    factories = FACTORIES if factories is None else factories
    ctx = BuildContext(agent=pipeline.agent, vad=None)  # type: ignore[arg-type]  # an LLM needs no VAD
    members = _chain_members("llm", pipeline, ctx, factories, observer, [])
    timeout = max(m._attempt_timeout for m in members)
    return llm.FallbackAdapter(members, attempt_timeout=timeout, max_retry_per_llm=0, retry_interval=0), members
