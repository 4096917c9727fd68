"""Local servers speaking the speech vendors' published protocols, for the real plugins to talk to.

They cannot recognise or synthesise speech, so each answers with a fixed transcript (after
receiving the audio, whose length it records) or a tone of a known length (in the format asked
for). Every request's path, query, headers and body are kept for the tests to check, and
`mode` makes the vendor fail: "error" (the vendor's error answer), "hang" (accepted, never
answered, until the test ends) or "quota" (the vendor's published refusal for an exhausted
balance or quota, `QUOTA`).

- Deepgram live STT: WebSocket /v1/listen, `Authorization: Token <key>`; binary linear16 audio,
  {"type": "KeepAlive" | "Finalize" | "CloseStream"}; answers `Results` (is_final, from_finalize;
  speech_final when `endpointing` ms of silence followed the speech) and, at CloseStream,
  `Metadata`, then closes.
- Deepgram TTS: POST /v1/speak?model=…&encoding=linear16&sample_rate=… with {"text"} → raw PCM.
- ElevenLabs TTS: POST /v1/text-to-speech/{voice_id}/stream?output_format=pcm_24000, `xi-api-key`.
- AssemblyAI v3 streaming: WebSocket /v3/ws?sample_rate=…&speech_model=…, `Authorization: <key>`;
  answers `Begin`, a final `Turn` (end_of_turn) at {"type": "Terminate"}, then `Termination`.
- OpenAI-compatible transcriptions: POST /v1/audio/transcriptions (multipart) → {"text"}.
- Vosk server: WebSocket; {"config"}, binary PCM (one answer each), {"eof": 1} → final {"text"}.
- Piper HTTP: POST / with {"text", …} → audio/wav.
- Azure AI Speech (the Speech SDK's USP over WebSocket, subprotocol "USP"):
  /speech/recognition/conversation/cognitiveservices/v1?language=…, `Ocp-Apim-Subscription-Key`;
  text messages are headers (`Path: speech.config` / `speech.context`), a blank line and JSON;
  binary messages are a 2-byte big-endian header length, the headers (`Path: audio`) and the
  audio (a WAV header first; an empty body ends it). Answers `turn.start`,
  `speech.startDetected`, a `speech.hypothesis`, the `speech.phrase` (offsets in 100 ns
  ticks), `speech.endDetected`, `turn.end`. Its refusals: the upgrade answered 503, and for
  quota the socket closed with 1007 "Quota exceeded" (what the SDK reports from the service).
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import uuid
import wave

import numpy as np
from aiohttp import WSMsgType, web

TRANSCRIPT = "What are your opening hours?"
# The refusals each vendor documents for an exhausted balance or quota (status, body): Deepgram's
# 402 "Insufficient credits" (developers.deepgram.com/reference/errors), ElevenLabs' 401
# `quota_exceeded` detail (help.elevenlabs.io, "API - Error Code 400 or 401"); AssemblyAI's
# streaming API closes the socket with 4002 "Insufficient Funds" (its close and error codes).
QUOTA = {
    "deepgram": (402, {"err_code": "ASR_PAYMENT_REQUIRED",
                       "err_msg": "Project does not have enough credits for an ASR request and does not have an overage agreement.",
                       "request_id": "00000000-0000-0000-0000-000000000402"}),
    "elevenlabs": (401, {"detail": {"status": "quota_exceeded",
                                    "message": "This request exceeds your quota of 10000. You have 12 credits remaining, "
                                               "while 30 credits are required for this request."}}),
}
ASSEMBLYAI_INSUFFICIENT_FUNDS = (4002, b"Insufficient Funds")  # punctuated: the offline fallback hears it lower-case, bare


def tone(rate: int, seconds: float) -> bytes:
    n = int(rate * seconds)
    return (np.sin(np.arange(n) * 2 * np.pi * 220 / rate) * 8000).astype(np.int16).tobytes()


def _silent_tail(chunk: bytes, tail: int) -> int:
    samples = np.frombuffer(chunk, dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples) > 64)
    return tail + len(samples) if len(loud) == 0 else len(samples) - 1 - int(loud[-1])


class SpeechServer:
    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        self.audio_bytes: list[int] = []  # per streaming session: bytes of audio received
        self.release = asyncio.Event()
        self.url = ""

    def _keep(self, request: web.Request, body=None) -> None:
        self.requests.append({"path": request.path, "query": dict(request.query), "headers": dict(request.headers),
                              "body": body})

    def _session(self) -> int:
        self.audio_bytes.append(0)
        return len(self.audio_bytes) - 1

    async def _hang(self) -> None:
        await self.release.wait()

    # --- Deepgram -------------------------------------------------------------------------
    async def deepgram_listen(self, request: web.Request) -> web.StreamResponse:
        self._keep(request)
        if self.mode == "error":
            return web.json_response({"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."}, status=401)
        if self.mode == "quota":
            return _refusal("deepgram")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self.mode == "hang":
            await self._hang()
            return ws
        slot = self._session()
        request_id = str(uuid.uuid4())
        rate = int(request.query.get("sample_rate", "16000"))
        endpointing = request.query.get("endpointing", "10")
        silent_tail = 0  # samples of silence at the end of what was received (for endpointing)
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                self.audio_bytes[slot] += len(msg.data)
                silent_tail = _silent_tail(msg.data, silent_tail)
            elif msg.type == WSMsgType.TEXT:
                kind = json.loads(msg.data)["type"]
                seconds = self.audio_bytes[slot] / 2 / rate
                if kind == "Finalize":
                    words = TRANSCRIPT.split()
                    await ws.send_json({
                        "type": "Results", "channel_index": [0, 1], "duration": seconds, "start": 0.0,
                        "is_final": True, "from_finalize": True,
                        # endpointing: the speech is final once that much silence followed it
                        "speech_final": endpointing != "false" and silent_tail * 1000 / rate >= int(endpointing),
                        "channel": {"alternatives": [{"transcript": TRANSCRIPT, "confidence": 0.98, "words": [
                            {"word": w, "start": i * 0.3, "end": i * 0.3 + 0.25, "confidence": 0.98, "punctuated_word": w}
                            for i, w in enumerate(words)]}]},
                        "metadata": {"request_id": request_id, "model_uuid": str(uuid.uuid4()),
                                     "model_info": {"name": "general-nova-3", "version": "2025-01-01", "arch": "nova-3"}},
                    })
                elif kind == "CloseStream":
                    await ws.send_json({"type": "Metadata", "transaction_key": "deprecated", "request_id": request_id,
                                        "sha256": "0" * 64, "created": "2026-12-03T12:00:00.000Z", "duration": seconds,
                                        "channels": 1})
                    break
        await ws.close()
        return ws

    async def deepgram_speak(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self._keep(request, body)
        if self.mode == "error":
            return web.json_response({"err_code": "INSUFFICIENT_PERMISSIONS", "err_msg": "Forbidden"}, status=403)
        if self.mode == "quota":
            return _refusal("deepgram")
        if self.mode == "hang":
            await self._hang()
        return web.Response(body=tone(int(request.query["sample_rate"]), 0.5), content_type="application/octet-stream")

    # --- ElevenLabs -----------------------------------------------------------------------
    async def elevenlabs_stream(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self._keep(request, body)
        if self.mode == "error":
            return web.json_response({"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, status=401)
        if self.mode == "quota":
            return _refusal("elevenlabs")
        resp = web.StreamResponse(headers={"Content-Type": "audio/pcm"})
        await resp.prepare(request)
        if self.mode == "hang":
            await self._hang()
            return resp
        rate = int(request.query["output_format"].split("_")[1])
        audio = tone(rate, 0.5)
        for start in range(0, len(audio), 4800):  # streamed in chunks, as the endpoint does
            await resp.write(audio[start : start + 4800])
        return resp

    # --- AssemblyAI v3 --------------------------------------------------------------------
    async def assemblyai_ws(self, request: web.Request) -> web.StreamResponse:
        self._keep(request)
        if self.mode == "error":
            return web.json_response({"error": "Invalid API key"}, status=401)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self.mode == "hang":
            await self._hang()
            return ws
        if self.mode == "quota":  # credentials and balance are checked after the upgrade
            code, reason = ASSEMBLYAI_INSUFFICIENT_FUNDS
            await ws.close(code=code, message=reason)
            return ws
        session_id = str(uuid.uuid4())
        await ws.send_json({"type": "Begin", "id": session_id, "expires_at": 1_900_000_000})
        slot = self._session()
        rate = int(request.query["sample_rate"])
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                self.audio_bytes[slot] += len(msg.data)
            elif msg.type == WSMsgType.TEXT and json.loads(msg.data).get("type") == "Terminate":
                seconds = self.audio_bytes[slot] / 2 / rate
                words = [{"text": w, "start": i * 300, "end": i * 300 + 250, "confidence": 0.97, "word_is_final": True}
                         for i, w in enumerate(TRANSCRIPT.split())]
                await ws.send_json({"type": "Turn", "turn_order": 0, "turn_is_formatted": True, "end_of_turn": True,
                                    "transcript": TRANSCRIPT, "end_of_turn_confidence": 0.9, "words": words})
                await ws.send_json({"type": "Termination", "audio_duration_seconds": round(seconds),
                                    "session_duration_seconds": round(seconds) + 1})
                break
        await ws.close()
        return ws

    # --- OpenAI-compatible transcriptions (a self-hosted Whisper) ---------------------------
    async def transcriptions(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        upload = form["file"]
        audio = upload.file.read()
        self._keep(request, {k: v for k, v in form.items() if k != "file"} | {"file_bytes": len(audio)})
        if self.mode == "error":
            return web.json_response({"error": {"message": "model not loaded", "type": "server_error"}}, status=500)
        if self.mode == "hang":
            await self._hang()
        return web.json_response({"text": TRANSCRIPT})

    # --- Vosk server ----------------------------------------------------------------------
    async def vosk(self, request: web.Request) -> web.StreamResponse:
        self._keep(request)
        if self.mode == "error":
            return web.Response(status=503, text="model is loading")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        slot = self._session()
        config: dict = {}
        async for msg in ws:
            if self.mode == "hang":
                continue  # reads everything, answers nothing
            if msg.type == WSMsgType.BINARY:
                self.audio_bytes[slot] += len(msg.data)
                await ws.send_str(json.dumps({"partial": TRANSCRIPT[: self.audio_bytes[slot] // 4000]}))
            elif msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                if "config" in data:
                    config = data["config"]
                elif data.get("eof") == 1:
                    await ws.send_str(json.dumps({"result": [{"conf": 1.0, "word": w} for w in TRANSCRIPT.split()],
                                                  "text": TRANSCRIPT}))
                    break
        self.requests[-1]["body"] = {"config": config}
        await ws.close()
        return ws

    # --- Piper HTTP -----------------------------------------------------------------------
    async def piper(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self._keep(request, body)
        if self.mode == "error":
            return web.Response(status=500, text="voice not found")
        if self.mode == "hang":
            await self._hang()
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(22050)
            wav.writeframes(tone(22050, 0.5))
        return web.Response(body=out.getvalue(), content_type="audio/wav")


    # --- Azure AI Speech (USP) ---------------------------------------------------------------
    async def azure_usp(self, request: web.Request) -> web.StreamResponse:
        self._keep(request, {})
        if self.mode == "error":
            return web.json_response({"error": {"code": "ServiceUnavailable", "message": "Service unavailable"}}, status=503)
        ws = web.WebSocketResponse(protocols=("USP",))
        await ws.prepare(request)
        if self.mode == "hang":  # accepted, never answered
            await self._hang()
            await ws.close()
            return ws
        slot = self._session()
        body = self.requests[-1]["body"]
        request_id, ticks = "", 0
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                head, _, payload = msg.data.partition("\r\n\r\n")
                headers = _usp_headers(head)
                request_id = headers.get("x-requestid", request_id)
                if headers.get("path") in ("speech.config", "speech.context"):
                    body[headers["path"]] = json.loads(payload)
                if self.mode == "quota" and headers.get("path") == "speech.context":
                    await ws.close(code=1007, message=b"Quota exceeded.")
                    break
            elif msg.type == WSMsgType.BINARY:
                size = struct.unpack(">H", msg.data[:2])[0]
                headers = _usp_headers(msg.data[2 : 2 + size].decode())
                audio = msg.data[2 + size :]
                if headers.get("path") != "audio":
                    continue
                request_id = headers.get("x-requestid", request_id)
                if audio[:4] == b"RIFF":
                    body["wav_header"] = audio[:44]
                    await ws.send_str(_usp("turn.start", request_id, {"context": {"serviceTag": uuid.uuid4().hex}}))
                    await ws.send_str(_usp("speech.startDetected", request_id, {"Offset": 0}))
                    audio = audio[44:]
                self.audio_bytes[slot] += len(audio)
                if not audio and "wav_header" in body:  # the end of the audio
                    rate = struct.unpack("<I", body["wav_header"][24:28])[0]
                    ticks = int(self.audio_bytes[slot] / 2 / rate * 10**7)
                    await ws.send_str(_usp("speech.hypothesis", request_id,
                                           {"Text": TRANSCRIPT.split("?")[0].lower(), "Offset": 0, "Duration": ticks // 2}))
                    await ws.send_str(_usp("speech.phrase", request_id, {"RecognitionStatus": "Success", "DisplayText": TRANSCRIPT,
                                                                        "Offset": 0, "Duration": ticks}))
                    await ws.send_str(_usp("speech.endDetected", request_id, {"Offset": ticks}))
                    await ws.send_str(_usp("turn.end", request_id, {}))
        await ws.close()
        return ws


def _refusal(vendor: str) -> web.Response:
    status, body = QUOTA[vendor]
    return web.json_response(body, status=status)


def _usp_headers(head: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in head.split("\r\n") if ":" in line)
    return {k.strip().lower(): v.strip() for k, v in pairs}


def _usp(path: str, request_id: str, body: dict) -> str:
    return (f"X-RequestId: {request_id}\r\nContent-Type: application/json; charset=utf-8\r\nPath: {path}\r\n\r\n"
            + json.dumps(body))


def app(server: SpeechServer) -> web.Application:
    a = web.Application()
    a.router.add_get("/v1/listen", server.deepgram_listen)
    a.router.add_post("/v1/speak", server.deepgram_speak)
    a.router.add_post("/v1/text-to-speech/{voice_id}/stream", server.elevenlabs_stream)
    a.router.add_get("/v3/ws", server.assemblyai_ws)
    a.router.add_post("/v1/audio/transcriptions", server.transcriptions)
    a.router.add_get("/vosk", server.vosk)
    a.router.add_post("/piper", server.piper)
    a.router.add_get("/speech/recognition/conversation/cognitiveservices/v1", server.azure_usp)
    return a
