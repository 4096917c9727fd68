"""A whole call on cloud speech vendors: the caller's speech (espeak-ng) → Silero VAD → Deepgram's
live WebSocket (one utterance) → the local LLM → ElevenLabs with the agent's cloned voice → the
caller hears it; then the call's report in the database prices Deepgram's minutes and
ElevenLabs' characters from price_book. The vendors are local servers speaking their protocols."""

from __future__ import annotations

from decimal import Decimal

from switchboard.billing import load_price_book
from switchboard.db import Database
from switchboard.secrets import put_secret
from tests.worker.conftest import create_org
from tests.worker.speech_servers import TRANSCRIPT
from tests.worker.speech_support import SPOKEN
from tests.worker.test_voice_roundtrip import spoken_call, until_answered

ANSWER = "Our opening hours are 9am to 5pm, Monday to Friday."
CLONED = "Xb7hH8MSUJpSbSDYk0k2"


async def test_a_call_heard_by_deepgram_and_spoken_by_elevenlabs_is_priced(db: Database, db_url: str, vad, speech_server) -> None:
    org = await create_org(db, begin_message=None, voice={"vendor": "elevenlabs", "voice_id": CLONED, "custom": True}, vendors=[
        ("deepgram-stt", 100, True, {"base_url": speech_server.url}),
        ("local-llm", 10, True, {}),
        ("elevenlabs-tts", 100, True, {"base_url": speech_server.url}),
    ])
    async with db.as_service() as conn:
        await put_secret(conn, org.id, "deepgram", {"api_key": "dg_organisation_key_0001"})
        await put_secret(conn, org.id, "elevenlabs", {"api_key": "el_organisation_key_0001"})
    async with spoken_call(db_url, org, vad, SPOKEN, room="speech") as line:
        await until_answered(line.call, line.speaker, ANSWER)
    call, speaker, record_id = line.call, line.speaker, line.record_id

    heard = [i.text_content for i in call.session.history.items if i.type == "message" and i.role == "user"]
    assert heard == [TRANSCRIPT]  # Deepgram's transcript of the utterance Silero cut
    spoken = [r for r in speech_server.requests if r["path"].startswith("/v1/text-to-speech/")]
    assert [r["path"] for r in spoken] == [f"/v1/text-to-speech/{CLONED}/stream"] * len(spoken)
    assert ANSWER in " ".join(r["body"]["text"] for r in spoken)
    assert sum(f.duration for f in speaker.segments[-1]) > 0.4  # ElevenLabs' audio was played

    async with db.as_service() as conn:
        usage = await (await conn.execute("select * from provider_usage where call_id = %s", (record_id,))).fetchone()
        book = await load_price_book(conn)
    components = {c["subject"]: c for c in usage["details"]["usage"]["components"]}
    minutes = Decimal(str(components["deepgram-stt"]["minutes"]))
    characters = components["elevenlabs-tts"]["characters"]
    assert minutes * 60 > 1 and characters >= len(ANSWER)
    assert usage["cost_source"] == "computed"
    assert usage["stt_cost"] == (minutes * book.price("deepgram-stt", "stt", "minute")).quantize(Decimal("0.000001"))
    assert usage["tts_cost"] == (Decimal(characters) / 1000 * book.price("elevenlabs-tts", "tts", "1k_characters")).quantize(
        Decimal("0.000001"))
