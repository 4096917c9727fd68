"""A local gRPC server speaking Google Cloud Speech-to-Text and Text-to-Speech, with the client
libraries' own messages (proto-plus classes of google-cloud-speech / -texttospeech serialise
them), served through generic method handlers:

- `google.cloud.speech.v1.Speech/StreamingRecognize` and `google.cloud.speech.v2.Speech/
  StreamingRecognize` (bidirectional): the first request carries the streaming config (v2 also
  the recognizer `projects/{project}/locations/{location}/recognizers/_`), the others audio; when
  the client half-closes, one final result and the billed duration (or the refusal), then the
  stream ends.
- `google.cloud.texttospeech.v1.TextToSpeech/SynthesizeSpeech` (unary): PCM of a known length.

Every call's method, metadata (the `authorization` the client sent) and requests are kept.
`mode`: "ok", "error" (UNAVAILABLE, as Google answers when a backend is down), "hang"
(accepted, never answered) or "quota" (RESOURCE_EXHAUSTED with the `google.rpc` QuotaFailure
and RetryInfo details in `grpc-status-details-bin`, as AIP-193 specifies)."""

from __future__ import annotations

import asyncio

import grpc
from google.cloud import speech_v1, speech_v2, texttospeech
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from tests.worker.speech_servers import TRANSCRIPT, tone

RETRY_SECONDS = 150
QUOTA_MESSAGE = ("Quota exceeded for quota metric 'Audio minutes per day' and limit 'Audio minutes per day per project' "
                 "of service '{service}' for consumer 'project_number:414243'.")


class GoogleCloud:
    def __init__(self) -> None:
        self.mode = "ok"
        self.calls: list[dict] = []
        self.release = asyncio.Event()
        self.endpoint = ""  # host:port
        self._server: grpc.aio.Server | None = None

    async def _keep(self, method: str, context, requests: list) -> dict:
        call = {"method": method, "metadata": dict(context.invocation_metadata()), "requests": requests}
        self.calls.append(call)
        if self.mode == "hang":
            await self.release.wait()
        elif self.mode == "error":
            await context.abort(grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable.")
        elif self.mode == "quota":
            service = "texttospeech.googleapis.com" if "TextToSpeech" in method else "speech.googleapis.com"
            await _abort_for_quota(context, QUOTA_MESSAGE.format(service=service))
        return call

    # --- Speech-to-Text --------------------------------------------------------------------
    def _recognize(self, version: int):
        types = speech_v2 if version == 2 else speech_v1

        async def streaming_recognize(request_iterator, context):
            requests: list = []
            audio = 0
            if self.mode == "hang":  # accepted, never answered (until the test ends)
                await self._keep(f"google.cloud.speech.v{version}.Speech/StreamingRecognize", context, requests)
                return
            # The audio is read to the client's half-close before any answer or refusal: refused
            # while the client still writes, the call ends INTERNAL ("Internal error from Core",
            # 20 of 20 tries with grpcio 1.85's asyncio client and server, 200 requests pending).
            async for request in request_iterator:
                if "streaming_config" in request:
                    requests.append(request)  # the config (the audio is only counted)
                audio += len(request.audio if version == 2 else request.audio_content)
            call = await self._keep(f"google.cloud.speech.v{version}.Speech/StreamingRecognize", context, requests)
            call["audio_bytes"] = audio
            config = requests[0].streaming_config.config
            rate = (config.explicit_decoding_config.sample_rate_hertz if version == 2 else config.sample_rate_hertz) or 16000
            seconds = audio / 2 / rate
            billed = duration_pb2.Duration(seconds=int(seconds), nanos=int(seconds % 1 * 1e9))
            words = [types.WordInfo(word=w, **{("start_offset" if version == 2 else "start_time"): duration_pb2.Duration(nanos=i * 300_000_000),
                                               ("end_offset" if version == 2 else "end_time"): duration_pb2.Duration(nanos=i * 300_000_000 + 250_000_000)})
                     for i, w in enumerate(TRANSCRIPT.split())]
            result = types.StreamingRecognitionResult(
                alternatives=[types.SpeechRecognitionAlternative(transcript=TRANSCRIPT, confidence=0.93, words=words)],
                is_final=True, language_code="en-gb")
            if version == 2:
                yield types.StreamingRecognizeResponse(
                    results=[result], metadata=types.RecognitionResponseMetadata(request_id="local-1", total_billed_duration=billed))
            else:
                yield types.StreamingRecognizeResponse(results=[result], total_billed_time=billed, request_id=1)

        return grpc.stream_stream_rpc_method_handler(
            streaming_recognize, request_deserializer=types.StreamingRecognizeRequest.deserialize,
            response_serializer=types.StreamingRecognizeResponse.serialize)

    # --- Text-to-Speech --------------------------------------------------------------------
    async def synthesize_speech(self, request, context):
        await self._keep("google.cloud.texttospeech.v1.TextToSpeech/SynthesizeSpeech", context, [request])
        rate = request.audio_config.sample_rate_hertz or 24000
        return texttospeech.SynthesizeSpeechResponse(audio_content=tone(rate, 0.5))

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        return [
            grpc.method_handlers_generic_handler("google.cloud.speech.v1.Speech", {"StreamingRecognize": self._recognize(1)}),
            grpc.method_handlers_generic_handler("google.cloud.speech.v2.Speech", {"StreamingRecognize": self._recognize(2)}),
            grpc.method_handlers_generic_handler("google.cloud.texttospeech.v1.TextToSpeech", {
                "SynthesizeSpeech": grpc.unary_unary_rpc_method_handler(
                    self.synthesize_speech, request_deserializer=texttospeech.SynthesizeSpeechRequest.deserialize,
                    response_serializer=texttospeech.SynthesizeSpeechResponse.serialize)}),
        ]

    async def start(self) -> str:
        # Local credentials: no TLS on loopback, and the client's call credentials still sent.
        self._server = grpc.aio.server()
        self._server.add_generic_rpc_handlers(self.handlers())
        port = self._server.add_secure_port("127.0.0.1:0", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP))
        await self._server.start()
        self.endpoint = f"127.0.0.1:{port}"
        return self.endpoint

    async def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            await self._server.stop(grace=None)


async def _abort_for_quota(context, message: str) -> None:
    details = []
    for detail in (
        error_details_pb2.QuotaFailure(violations=[error_details_pb2.QuotaFailure.Violation(
            subject="project_number:414243", description=message)]),
        error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=RETRY_SECONDS)),
    ):
        packed = any_pb2.Any()
        packed.Pack(detail)
        details.append(packed)
    status = status_pb2.Status(code=grpc.StatusCode.RESOURCE_EXHAUSTED.value[0], message=message, details=details)
    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message,
                        trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()),))
