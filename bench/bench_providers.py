"""Provider adapters' CPU cost per operation, no network: verifying and normalising one webhook
of each platform (the edge functions must carry ~200 a second per process at 10,000 concurrent
calls), compiling one agent spec for each platform, and building a SignalWire hand-off.

    .venv/bin/python bench/bench_providers.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from switchboard.providers.base import ProviderCredentials
from switchboard.providers.registry import get_provider  # noqa: E402
from switchboard.spec import (
    AgentSpec,
    EndCallTool,
    HttpTool,
    InboundCall,
    TransferTool,
    VoiceSpec,
    WebhookRequest,
)


def rate(label: str, fn, *, seconds: float = 1.0) -> None:
    fn()  # warm
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    elapsed = time.perf_counter() - start
    print(f"{label:<46} {n / elapsed:>9.0f}/s   {elapsed / n * 1e6:>8.0f} µs")


def main() -> None:
    spec = AgentSpec(
        prompt="You are the front desk of Demo Dental." * 20, begin_message="Hello!", voice=VoiceSpec(vendor="openai", voice_id="alloy"),
        tools=[EndCallTool(), TransferTool(number="+14155550123"),
               HttpTool(name="book", description="Book", url="https://x.example/a", parameters={"type": "object", "properties": {"day": {"type": "string"}}})],
        metadata={"organization_id": "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41", "agent_config_id": "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718"},
    )
    creds = {
        "retell": ProviderCredentials(values={"api_key": "key_bench"}),
        "vapi": ProviderCredentials(values={"api_key": "k", "webhook_secret": "tok"}),
        "signalwire": ProviderCredentials(values={"project_id": "p", "api_token": "t", "space_url": "x.signalwire.com", "signing_key": "PSK_bench"}),
        "livekit": ProviderCredentials(values={"url": "wss://demo.livekit.cloud", "api_key": "APIbench", "api_secret": "bench-secret-of-at-least-32-chars!!"}),
    }
    providers = {code: get_provider(code, c, webhook_base_url="https://sb.example.com") if code != "livekit" else get_provider(code, c)
                 for code, c in creds.items()}

    print("== compile one spec (native form, no request)")
    for code, p in providers.items():
        rate(f"{code}", lambda p=p: p.native_form(spec))

    print("== verify + parse one webhook")
    call = {"call_type": "phone_call", "call_id": "c" * 32, "agent_id": "a", "agent_version": 1, "call_status": "ended",
            "from_number": "+14155550100", "to_number": "+14155550199", "direction": "inbound", "start_timestamp": 1795186800000,
            "end_timestamp": 1795186980000, "duration_ms": 180000, "transcript": "Agent: hi\nUser: hello " * 40,
            "call_cost": {"product_costs": [{"product": "elevenlabs_tts", "cost": 4.5}, {"product": "retell_platform", "cost": 16.5}],
                          "total_duration_seconds": 180, "total_duration_unit_price": 0.1, "combined_cost": 21}}
    body = json.dumps({"event": "call_ended", "call": call}).encode()

    def retell_req():
        ts = int(time.time() * 1000)
        sig = f"v={ts},d=" + hmac.new(b"key_bench", body + str(ts).encode(), hashlib.sha256).hexdigest()
        return WebhookRequest(headers={"x-retell-signature": sig}, body=body, url="https://sb.example.com/x")

    r = retell_req()
    rate("retell (HMAC-SHA256, call_ended)", lambda: (providers["retell"].verify_webhook(r), providers["retell"].parse_webhook(r)))
    vbody = json.dumps({"message": {"type": "end-of-call-report", "endedReason": "customer-ended-call", "artifact": {"transcript": "x" * 2000},
                                    "analysis": {"summary": "s"}, "call": {"id": "c1", "costBreakdown": {"stt": 0.01, "llm": 0.02, "tts": 0.03, "vapi": 0.05, "transport": 0.01, "total": 0.12}}}}).encode()
    v = WebhookRequest(headers={"authorization": "Bearer tok"}, body=vbody, url="https://sb.example.com/x")
    rate("vapi (secret token, end-of-call-report)", lambda: (providers["vapi"].verify_webhook(v), providers["vapi"].parse_webhook(v)))
    url = "https://sb.example.com/functions/v1/provider-webhook-router/signalwire"
    sbody = json.dumps({"call_id": "c1", "ai_session_id": "s1", "action": "post_conversation", "total_minutes": 3,
                        "call_log": [{"role": "user", "content": "hello"}] * 20}).encode()
    sig = hmac.new(b"PSK_bench", url.encode() + sbody, hashlib.sha1).hexdigest()
    s = WebhookRequest(headers={"x-signalwire-signature": sig, "content-type": "application/json"}, body=sbody, url=url)
    rate("signalwire (HMAC-SHA1 URL+body, post_prompt)", lambda: (providers["signalwire"].verify_webhook(s), providers["signalwire"].parse_webhook(s)))
    from switchboard.providers.livekit.webhooks import sign

    lbody = json.dumps({"event": "room_finished", "id": "EV_1", "createdAt": "1795186980", "room": {"name": "call-1", "creationTime": "1795186800"}}).encode()
    lk = WebhookRequest(headers={"authorization": sign(lbody, "APIbench", "bench-secret-of-at-least-32-chars!!")}, body=lbody, url=url)
    rate("livekit (JWT + body hash, room_finished)", lambda: (providers["livekit"].verify_webhook(lk), providers["livekit"].parse_webhook(lk)))

    print("== SignalWire AI hand-off (SWML answer, record_call, ai; no request)")
    import asyncio
    from uuid import uuid4

    inbound = InboundCall(telephony_call_id="t1", from_number="+14155550100", to_number="+14155550199",
                          organization_id=uuid4(), agent_config_id=uuid4(), call_record_id=uuid4())
    loop = asyncio.new_event_loop()
    from switchboard.spec import AgentRef

    rate("signalwire hand_off_inbound", lambda: loop.run_until_complete(providers["signalwire"].hand_off_inbound(AgentRef(), spec, inbound)))
    loop.close()


if __name__ == "__main__":
    main()
