"""Azure AI Speech to text through livekit-plugins-azure, with the Speech SDK's failures made
prompt. Measured against a local USP server (tests/worker/test_azure_stt_contract.py), the
plugin as it is (1) drops a cancellation that comes after the input ended — a refused upgrade
(503) or the service's "Quota exceeded" close — and ends the stream with no transcript and no
error, and (2) waits for the SDK's `stop_continuous_recognition`, which blocks 10–20 s after a
failed or silent session. Here the cancellation fails the stream at once, with the SDK's words
(agent_worker.failover reads their status), and the SDK's teardown finishes in a thread of its own."""

from __future__ import annotations

import asyncio
import threading
from copy import deepcopy
from typing import Any

import azure.cognitiveservices.speech as speechsdk
from livekit.agents import APIConnectionError, APIConnectOptions, LanguageCode
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from livekit.plugins import azure
from livekit.plugins.azure import stt as azure_stt


class _SpeechStream(azure_stt.SpeechStream):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._failed = asyncio.Event()

    def _on_canceled(self, evt: speechsdk.SpeechRecognitionCanceledEventArgs) -> None:
        failed = evt.cancellation_details.reason == speechsdk.CancellationReason.Error
        if failed:  # queued before the plugin's own wake-up, so its teardown finds nothing to stop
            self._loop.call_soon_threadsafe(self._stop_elsewhere)
        super()._on_canceled(evt)
        if failed:
            self._loop.call_soon_threadsafe(self._failed.set)

    async def _run(self) -> None:
        session = asyncio.create_task(super()._run())
        failed = asyncio.create_task(self._failed.wait())
        try:
            done, _ = await asyncio.wait({session, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            failed.cancel()
            if not session.done():
                self._stop_elsewhere()
                session.cancel()
        if session in done and self._cancellation_error is None:
            return session.result()
        details = self._cancellation_error
        raise APIConnectionError(f"Azure STT canceled: {details.error_details or details.reason} ({details.code})")

    def _stop_elsewhere(self) -> None:
        """Stop and release the SDK's recognizer in a thread of its own: that blocks 10-20 s
        after a failed or silent session, and in the event loop's default executor (a few
        threads) it would hold up every other call's `to_thread`."""
        recognizer = getattr(self, "_recognizer", None)
        if recognizer is None or isinstance(recognizer, _Stopped):
            return
        self._recognizer = _Stopped()  # what the plugin's own teardown then stops: at once
        threading.Thread(target=_stop, args=(recognizer,), name="azure-stt-stop", daemon=True).start()


class _Stopped:
    def stop_continuous_recognition(self) -> None:
        return None


def _stop(recognizer: speechsdk.SpeechRecognizer) -> None:
    recognizer.stop_continuous_recognition()  # the last reference goes with this thread


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
