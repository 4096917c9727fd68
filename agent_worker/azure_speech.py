"""Azure AI Speech to text through livekit-plugins-azure, with the Speech SDK's failures made
prompt. Measured against a local USP server (tests/worker/test_azure_stt_contract.py), the
plugin as it is (1) drops a cancellation that comes after the input ended — a refused upgrade
(503) or the service's "Quota exceeded" close — and ends the stream with no transcript and no
error, and (2) waits for the SDK's `stop_continuous_recognition`, which blocks 10–20 s after a
failed or silent session. Here the cancellation fails the stream at once, with the SDK's words
(agent_worker.failover reads their status), and the SDK's teardown finishes in the background."""

from __future__ import annotations

import asyncio
from copy import deepcopy
from typing import Any

import azure.cognitiveservices.speech as speechsdk
from livekit.agents import APIConnectionError, APIConnectOptions, LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from livekit.plugins import azure
from livekit.plugins.azure import stt as azure_stt

_TEARDOWNS: set[asyncio.Task] = set()  # the SDK sessions still stopping (kept from the collector)


class _SpeechStream(azure_stt.SpeechStream):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._failed = asyncio.Event()

    def _on_canceled(self, evt: speechsdk.SpeechRecognitionCanceledEventArgs) -> None:
        super()._on_canceled(evt)
        if evt.cancellation_details.reason == speechsdk.CancellationReason.Error:
            self._loop.call_soon_threadsafe(self._failed.set)

    async def _run(self) -> None:
        session = asyncio.create_task(super()._run())
        failed = asyncio.create_task(self._failed.wait())
        try:
            done, _ = await asyncio.wait({session, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            failed.cancel()
            if not session.done():
                session.cancel()  # its SDK teardown may block for seconds: not awaited
                _TEARDOWNS.add(session)
                session.add_done_callback(_TEARDOWNS.discard)
        if session in done and self._cancellation_error is None:
            return session.result()
        details = self._cancellation_error
        raise APIConnectionError(f"Azure STT canceled: {details.error_details or details.reason} ({details.code})")


class AzureSTT(azure.STT):
    def stream(
        self, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> azure_stt.SpeechStream:
        config = deepcopy(self._config)  # as the plugin's own stream() does
        if is_given(language):
            config.language = [LanguageCode(language)]
        stream = _SpeechStream(stt=self, opts=config, conn_options=conn_options)
        self._streams.add(stream)
        return stream
