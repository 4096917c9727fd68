"""Webhook authentication, each provider's published scheme. Signatures here are computed
independently of the code under test (hmac/hashlib/PyJWT, from the contracts README), so a bug
shared by signer and verifier cannot hide: accepted when valid, rejected on a tampered body, a
wrong key, a stale timestamp, a missing header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import jwt
import pytest

from switchboard.providers.base import ProviderCredentials, WebhookRejected
from switchboard.providers.livekit.adapter import LiveKitProvider
from switchboard.providers.retell.adapter import RetellProvider
from switchboard.providers.signalwire.adapter import SignalWireProvider
from switchboard.providers.signalwire.webhooks import post_prompt_password
from switchboard.providers.vapi.adapter import VapiProvider
from switchboard.spec import WebhookRequest

URL = "https://switchboard.example.com/functions/v1/provider-webhook-router/{code}"


def request(code: str, body: bytes, headers: dict[str, str], url: str | None = None) -> WebhookRequest:
    return WebhookRequest(headers={k.lower(): v for k, v in headers.items()}, body=body, url=url or URL.format(code=code))


def rejected(provider, req: WebhookRequest, reason: str = "") -> None:
    with pytest.raises(WebhookRejected, match=reason):
        provider.verify_webhook(req)


# --------------------------------------------------------------------------------------------
# Retell: x-retell-signature: v=<ms>,d=<hex HMAC-SHA256(api key, body + ms)>
# --------------------------------------------------------------------------------------------
RETELL_KEY = "key_0123456789abcdef"
RETELL_BODY = json.dumps({"event": "call_ended", "call": {"call_id": "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"}}, separators=(",", ":")).encode()


def retell_signature(body: bytes, key: str, ts_ms: int) -> str:
    return f"v={ts_ms},d=" + hmac.new(key.encode(), body + str(ts_ms).encode(), hashlib.sha256).hexdigest()


def test_retell_scheme():
    retell = RetellProvider(ProviderCredentials(values={"api_key": RETELL_KEY}))
    now = int(time.time() * 1000)
    retell.verify_webhook(request("retell", RETELL_BODY, {"x-retell-signature": retell_signature(RETELL_BODY, RETELL_KEY, now)}))
    rejected(retell, request("retell", RETELL_BODY.replace(b"call_ended", b"call_analyzed"),
                             {"x-retell-signature": retell_signature(RETELL_BODY, RETELL_KEY, now)}), "does not match")
    rejected(retell, request("retell", RETELL_BODY, {"x-retell-signature": retell_signature(RETELL_BODY, "key_wrong", now)}), "does not match")
    stale = now - 5 * 60 * 1000 - 1000
    rejected(retell, request("retell", RETELL_BODY, {"x-retell-signature": retell_signature(RETELL_BODY, RETELL_KEY, stale)}), "5 minutes")
    future = now + 6 * 60 * 1000
    rejected(retell, request("retell", RETELL_BODY, {"x-retell-signature": retell_signature(RETELL_BODY, RETELL_KEY, future)}), "5 minutes")
    rejected(retell, request("retell", RETELL_BODY, {}), "missing")
    rejected(retell, request("retell", RETELL_BODY, {"x-retell-signature": "sha256=abc"}), "malformed")
    # a signature just inside the window still passes
    recent = now - 4 * 60 * 1000
    retell.verify_webhook(request("retell", RETELL_BODY, {"x-retell-signature": retell_signature(RETELL_BODY, RETELL_KEY, recent)}))
    # no key configured: nothing is accepted
    rejected(RetellProvider(ProviderCredentials()), request("retell", RETELL_BODY, {"x-retell-signature": retell_signature(RETELL_BODY, RETELL_KEY, now)}), "no API key")


# --------------------------------------------------------------------------------------------
# Vapi: a secret token (Bearer or X-Vapi-Secret) or HMAC of "{timestamp}.{body}"
# --------------------------------------------------------------------------------------------
VAPI_BODY = json.dumps({"message": {"type": "end-of-call-report", "call": {"id": "c1"}}}).encode()


def test_vapi_secret_token():
    vapi = VapiProvider(ProviderCredentials(values={"webhook_secret": "tok_very_secret"}))
    vapi.verify_webhook(request("vapi", VAPI_BODY, {"Authorization": "Bearer tok_very_secret"}))
    vapi.verify_webhook(request("vapi", VAPI_BODY, {"X-Vapi-Secret": "tok_very_secret"}))
    rejected(vapi, request("vapi", VAPI_BODY, {"Authorization": "Bearer tok_wrong"}), "wrong secret")
    rejected(vapi, request("vapi", VAPI_BODY, {"X-Vapi-Secret": "tok_very_secre"}), "wrong secret")
    rejected(vapi, request("vapi", VAPI_BODY, {}), "missing or wrong")
    rejected(VapiProvider(ProviderCredentials()), request("vapi", VAPI_BODY, {"Authorization": "Bearer anything"}), "no webhook secret")


@pytest.mark.parametrize("algorithm,encoding", [("sha256", "hex"), ("sha1", "hex"), ("sha512", "base64")])
def test_vapi_hmac(algorithm, encoding):
    secret = "hmac-secret-value"
    vapi = VapiProvider(ProviderCredentials(values={"webhook_hmac_secret": secret, "webhook_hmac_algorithm": algorithm,
                                                    "webhook_hmac_encoding": encoding}))

    def signed(body: bytes, key: str, ts: str) -> dict[str, str]:
        digest = hmac.new(key.encode(), f"{ts}.".encode() + body, getattr(hashlib, algorithm)).digest()
        sig = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
        return {"x-timestamp": ts, "x-signature": sig}

    now = str(int(time.time() * 1000))
    vapi.verify_webhook(request("vapi", VAPI_BODY, signed(VAPI_BODY, secret, now)))
    rejected(vapi, request("vapi", VAPI_BODY + b" ", signed(VAPI_BODY, secret, now)), "does not match")
    rejected(vapi, request("vapi", VAPI_BODY, signed(VAPI_BODY, "other-secret", now)), "does not match")
    stale = str(int(time.time() * 1000) - 6 * 60 * 1000)
    rejected(vapi, request("vapi", VAPI_BODY, signed(VAPI_BODY, secret, stale)), "5 minutes")
    headers = signed(VAPI_BODY, secret, now)
    headers["x-timestamp"] = str(int(now) + 1)  # the timestamp is part of what is signed
    rejected(vapi, request("vapi", VAPI_BODY, headers), "does not match")
    rejected(vapi, request("vapi", VAPI_BODY, {"x-timestamp": now}), "missing x-signature")


# --------------------------------------------------------------------------------------------
# SignalWire: both signature schemes, and the post_prompt_url credentials
# --------------------------------------------------------------------------------------------
SIGNING_KEY = "PSK_0123456789abcdef"
SW_CREDS = ProviderCredentials(values={"project_id": "b3877c40-da60-4998-90ad-b792e98472af", "api_token": "PT_x", "signing_key": SIGNING_KEY})


def test_signalwire_json_scheme_sha1_and_sha256():
    sw = SignalWireProvider(SW_CREDS)
    url = URL.format(code="signalwire") + "?call_record_id=0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"
    body = json.dumps({"call_id": "c1", "ai_session_id": "s1"}).encode()
    sha1 = hmac.new(SIGNING_KEY.encode(), url.encode() + body, hashlib.sha1).hexdigest()
    sha256 = hmac.new(SIGNING_KEY.encode(), url.encode() + body, hashlib.sha256).hexdigest()
    sw.verify_webhook(request("signalwire", body, {"X-SignalWire-Signature": sha1}, url))
    sw.verify_webhook(request("signalwire", body, {"X-SignalWire-Signature": sha1, "X-SignalWire-SHA256-Signature": sha256}, url))
    rejected(sw, request("signalwire", body, {"X-SignalWire-Signature": sha1, "X-SignalWire-SHA256-Signature": "0" * 64}, url), "SHA-256")
    rejected(sw, request("signalwire", body.replace(b"c1", b"c2"), {"X-SignalWire-Signature": sha1}, url), "does not match")
    rejected(sw, request("signalwire", body, {"X-SignalWire-Signature": sha1}, url.replace("0d9c", "1d9c")), "does not match")
    wrong = hmac.new(b"PSK_wrong", url.encode() + body, hashlib.sha1).hexdigest()
    rejected(sw, request("signalwire", body, {"X-SignalWire-Signature": wrong}, url), "does not match")
    rejected(SignalWireProvider(ProviderCredentials()), request("signalwire", body, {"X-SignalWire-Signature": sha1}, url), "no signing key")
    # A base64 signature of the URL alone (the Compatibility form scheme with no fields) does not
    # cover a JSON body: replaying it with another body must fail.
    url_only = base64.b64encode(hmac.new(SIGNING_KEY.encode(), url.encode(), hashlib.sha1).digest()).decode()
    rejected(sw, request("signalwire", b'{"call_id": "forged"}', {"X-SignalWire-Signature": url_only}, url), "does not match")


def test_signalwire_compatibility_form_scheme():
    sw = SignalWireProvider(SW_CREDS)
    url = URL.format(code="signalwire") + "/status"
    form = {"CallSid": "b3877c40-da60-4998-90ad-b792e98472ca", "CallStatus": "completed", "CallDuration": "94",
            "From": "+15551234567", "To": "+15559876543", "AccountSid": "b3877c40-da60-4998-90ad-b792e98472af"}
    body = urlencode(form).encode()
    message = url + "".join(k + form[k] for k in sorted(form))
    signature = base64.b64encode(hmac.new(SIGNING_KEY.encode(), message.encode(), hashlib.sha1).digest()).decode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    sw.verify_webhook(request("signalwire", body, {**headers, "X-SignalWire-Signature": signature}, url))
    sw.verify_webhook(request("signalwire", body, {**headers, "X-Twilio-Signature": signature}, url))
    tampered = urlencode({**form, "CallDuration": "9400"}).encode()
    rejected(sw, request("signalwire", tampered, {**headers, "X-SignalWire-Signature": signature}, url), "does not match")
    wrong = base64.b64encode(hmac.new(b"PSK_wrong", message.encode(), hashlib.sha1).digest()).decode()
    rejected(sw, request("signalwire", body, {**headers, "X-SignalWire-Signature": wrong}, url), "does not match")


def test_signalwire_form_scheme_agrees_with_the_sdk_validator():
    """Our scheme-B check (the core cannot load signalwire-sdk's validator: its package loads
    FastAPI) accepts what the SDK's validator accepts: the default port present or not, repeated
    keys in their order, an explicit odd port only as given."""
    from signalwire.core.security.webhook_validator import validate_request

    sw = SignalWireProvider(SW_CREDS)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    pairs = [("To", "+15559876543"), ("CallSid", "CA1"), ("Digits", "1"), ("Digits", "2"), ("Empty", "")]
    body = urlencode(pairs).encode()
    for signed_url, received_url, expected in (
        ("https://example.test/functions/v1/x?a=1", "https://example.test:443/functions/v1/x?a=1", True),
        ("https://example.test:443/functions/v1/x", "https://example.test/functions/v1/x", True),
        ("http://example.test/x", "http://example.test:80/x", True),
        ("https://example.test:8443/x", "https://example.test/x", False),
        ("https://example.test/x", "https://example.test/y", False),
    ):
        message = signed_url + "".join(k + v for k, v in sorted(pairs, key=lambda kv: kv[0]))
        signature = base64.b64encode(hmac.new(SIGNING_KEY.encode(), message.encode(), hashlib.sha1).digest()).decode()
        assert validate_request(SIGNING_KEY, signature, received_url, pairs) is expected
        req = request("signalwire", body, {**headers, "X-SignalWire-Signature": signature}, received_url)
        if expected:
            sw.verify_webhook(req)
        else:
            rejected(sw, req, "does not match")
    swapped = urlencode([("Digits", "2"), ("Digits", "1"), *pairs[:2]]).encode()
    message = "https://example.test/x" + "".join(k + v for k, v in sorted(pairs[:4], key=lambda kv: kv[0]))
    signature = base64.b64encode(hmac.new(SIGNING_KEY.encode(), message.encode(), hashlib.sha1).digest()).decode()
    rejected(sw, request("signalwire", swapped, {**headers, "X-SignalWire-Signature": signature}, "https://example.test/x"), "does not match")
    rejected(sw, request("signalwire", body, {**headers, "X-SignalWire-Signature": "é" * 28}, "https://example.test/x"), "does not match")


def test_signalwire_post_prompt_basic_credentials():
    sw = SignalWireProvider(SW_CREDS)
    password = post_prompt_password(SW_CREDS)
    body = b'{"call_id": "c1", "ai_session_id": "s1", "action": "post_conversation"}'

    def basic(user: str, pw: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}

    sw.verify_webhook(request("signalwire", body, basic("switchboard", password)))
    rejected(sw, request("signalwire", body, basic("switchboard", password[:-1] + "x")), "wrong post_prompt_url credentials")
    rejected(sw, request("signalwire", body, basic("admin", password)), "wrong post_prompt_url credentials")
    rejected(sw, request("signalwire", body, {}), "without credentials")
    # another organisation's signing key derives another password
    other = ProviderCredentials(values={**SW_CREDS.values, "signing_key": "PSK_other"})
    rejected(SignalWireProvider(other), request("signalwire", body, basic("switchboard", password)), "wrong")


# --------------------------------------------------------------------------------------------
# LiveKit: Authorization: HS256 JWT (iss = API key) whose sha256 claim is the body's hash
# --------------------------------------------------------------------------------------------
LK_KEY, LK_SECRET = "APIwebhookkey", "livekit-secret-of-at-least-32-chars!"
LK_BODY = json.dumps({"event": "room_finished", "id": "EV_1", "room": {"name": "call-1", "sid": "RM_1"}}).encode()


def livekit_token(body: bytes, *, key: str = LK_KEY, secret: str = LK_SECRET, exp_in: int = 600) -> str:
    claims = {"iss": key, "sha256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
              "nbf": int(time.time()) - 5, "exp": int(time.time()) + exp_in, "sub": ""}
    return jwt.encode(claims, secret, algorithm="HS256")


def test_livekit_jwt_with_body_hash():
    lk = LiveKitProvider(ProviderCredentials(values={"api_key": LK_KEY, "api_secret": LK_SECRET}))
    lk.verify_webhook(request("livekit", LK_BODY, {"Authorization": livekit_token(LK_BODY)}))
    lk.verify_webhook(request("livekit", LK_BODY, {"Authorization": "Bearer " + livekit_token(LK_BODY)}))
    rejected(lk, request("livekit", LK_BODY.replace(b"call-1", b"call-2"), {"Authorization": livekit_token(LK_BODY)}), "hash mismatch")
    rejected(lk, request("livekit", LK_BODY, {"Authorization": livekit_token(LK_BODY, secret="another-secret-of-32-characters!!")}), "Signature")
    rejected(lk, request("livekit", LK_BODY, {"Authorization": livekit_token(LK_BODY, key="APIother")}), "Issuer")
    rejected(lk, request("livekit", LK_BODY, {"Authorization": livekit_token(LK_BODY, exp_in=-120)}), "xpired")
    rejected(lk, request("livekit", LK_BODY, {}), "missing")
    no_hash = jwt.encode({"iss": LK_KEY, "exp": int(time.time()) + 600}, LK_SECRET, algorithm="HS256")
    rejected(lk, request("livekit", LK_BODY, {"Authorization": no_hash}), "sha256")
