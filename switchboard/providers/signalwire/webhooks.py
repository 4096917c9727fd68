"""SignalWire webhooks, three ways in, each checked with the published scheme:

* signed JSON (SWML/RELAY): `X-SignalWire-Signature` = hex HMAC-SHA1(signing key, URL + body);
  when `X-SignalWire-SHA256-Signature` is present it must match too (hex HMAC-SHA256);
* signed form posts (Compatibility/LaML status callbacks): `X-SignalWire-Signature` or
  `X-Twilio-Signature` = base64 HMAC-SHA1(signing key, URL + sorted form pairs);
* the AI agent's `post_prompt_url` report, which SignalWire does not sign: it carries the basic
  credentials we put in that URL, checked here.

Signatures are computed here from that published scheme: signalwire-sdk's own validator sits in a
package that loads FastAPI, which the core must not import. The post-prompt password is
derived from the organisation's signing key (HMAC), so nothing extra is stored, and it changes
when the key is rotated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit, urlunsplit

from switchboard.billing import PriceBook
from switchboard.providers.base import ProviderCredentials, WebhookMalformed, WebhookRejected
from switchboard.providers.common import event_duration, from_epoch, ids_from_metadata, signed_text
from switchboard.providers.signalwire.costs import accounting_details, accounting_usage, signalwire_cost
from switchboard.spec import CallEvent, WebhookRequest

SIGNATURE = "x-signalwire-signature"
SIGNATURE_SHA256 = "x-signalwire-sha256-signature"
TWILIO_SIGNATURE = "x-twilio-signature"
POST_PROMPT_USER = "switchboard"
FORM = "application/x-www-form-urlencoded"

_ENDED_STATUSES = {"completed": "ended", "failed": "error", "busy": "not_connected", "no-answer": "not_connected", "canceled": "not_connected"}


def post_prompt_password(creds: ProviderCredentials) -> str | None:
    key = creds.get("signing_key", "api_token")
    if not key:
        return None
    scope = creds.get("project_id") or ""
    return hmac.new(key.encode(), f"switchboard/post_prompt_url/{scope}".encode(), hashlib.sha256).hexdigest()[:40]


def with_credentials(url: str, user: str, password: str) -> str:
    """`url` with basic credentials in it (how SignalWire authenticates to post_prompt_url)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def verify(request: WebhookRequest, creds: ProviderCredentials) -> None:
    signature = request.header(SIGNATURE) or request.header(TWILIO_SIGNATURE)
    if signature:
        key = creds.get("signing_key")
        if not key:
            raise WebhookRejected("signalwire: no signing key configured to verify webhooks")
        body = signed_text(request, "signalwire")
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type == FORM:
            # Scheme B: URL + the sorted form pairs.
            ok = _signed_form(key, signature, request.url, parse_qsl(body, keep_blank_values=True))
        else:
            # Scheme A only: a hex digest of URL + raw body. A base64 signature of the URL alone
            # (JSON on the Compatibility surface) does not cover the body, so it is not taken.
            ok = _signed_hex(key, signature, request.url + body, hashlib.sha1)
        if not ok:
            raise WebhookRejected("signalwire: signature does not match")
        sha256 = request.header(SIGNATURE_SHA256)
        if sha256 and not _signed_hex(key, sha256, request.url + body, hashlib.sha256):
            raise WebhookRejected("signalwire: SHA-256 signature does not match")
        return
    # Unsigned: only the AI agent's post_prompt_url report, with our basic credentials.
    password = post_prompt_password(creds)
    if not password:
        raise WebhookRejected("signalwire: no signing key configured to verify webhooks")
    auth = request.header("authorization") or ""
    if not auth.lower().startswith("basic "):
        raise WebhookRejected("signalwire: unsigned request without credentials")
    try:
        user, _, given = base64.b64decode(auth[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected("signalwire: malformed basic credentials") from exc
    ok_user = hmac.compare_digest(user.encode(), POST_PROMPT_USER.encode())
    ok_password = hmac.compare_digest(given.encode(), password.encode())
    if not (ok_user and ok_password):
        raise WebhookRejected("signalwire: wrong post_prompt_url credentials")


def _signed_hex(key: str, signature: str, message: str, digest: Any) -> bool:
    expected = hmac.new(key.encode(), message.encode(), digest).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def _signed_form(key: str, signature: str, url: str, pairs: list[tuple[str, str]]) -> bool:
    """Scheme B: base64 HMAC-SHA1 of the URL + each pair as key+value, sorted by key (stable, so
    repeated keys keep their order). The URL is tried as given and with its default port added
    or removed, since proxies differ on whether the port reaches us."""
    concat = "".join(k + v for k, v in sorted(pairs, key=lambda kv: kv[0]))
    for candidate in _port_variants(url):
        digest = hmac.new(key.encode(), (candidate + concat).encode(), hashlib.sha1).digest()
        if hmac.compare_digest(base64.b64encode(digest), signature.strip().encode()):
            return True
    return False


def _port_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    host = parts.netloc.rpartition("@")[2]
    if default is None or not parts.hostname:
        return [url]
    bare = host.rsplit(":", 1)[0] if parts.port else host
    if parts.port is None:
        other = f"{bare}:{default}"
    elif parts.port == default:
        other = bare
    else:
        return [url]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    return [url, urlunsplit((parts.scheme, userinfo + other, parts.path, parts.query, parts.fragment))]


def parse(request: WebhookRequest, prices: PriceBook | None = None) -> list[CallEvent]:
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type == FORM:
        return [status_event(dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)), request.url)]
    try:
        payload = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookMalformed(f"signalwire: body is neither JSON nor a form ({exc})") from exc
    if isinstance(payload, dict) and payload.get("ai_session_id") and payload.get("call_id"):
        if payload.get("action") not in (None, "post_conversation"):
            raise WebhookMalformed(f"signalwire: post-prompt action {payload.get('action')!r} is not a call report")
        return [post_prompt_event(payload, request.url, prices)]
    if isinstance(payload, dict) and payload.get("CallSid"):
        return [status_event({k: str(v) for k, v in payload.items()}, request.url)]
    raise WebhookMalformed("signalwire: neither an AI post-prompt report nor a call status callback")


def _url_ids(url: str) -> dict[str, Any]:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if v}
    return ids_from_metadata(query)


def post_prompt_event(report: dict[str, Any], url: str, prices: PriceBook | None) -> CallEvent:
    """The AI agent's end-of-call report (`AiPostPromptCallbackPayload`)."""
    global_data = report.get("global_data") if isinstance(report.get("global_data"), dict) else {}
    ids = {**_url_ids(url), **ids_from_metadata(global_data)}
    started = from_epoch(report.get("call_answer_date") or report.get("call_start_date"), unit="us")
    ended = from_epoch(report.get("call_end_date") or report.get("ai_end_date"), unit="us")
    log = [e for e in (report.get("call_log") or []) if isinstance(e, dict)]
    spoken = [e for e in log if e.get("role") in ("user", "assistant")]
    transcript = "\n".join(f"{'Agent' if e['role'] == 'assistant' else 'User'}: {e.get('content', '')}" for e in spoken) or None
    answer = _post_prompt_answer(report.get("post_prompt_data"))
    usage = accounting_usage(report)
    swml_vars = report.get("SWMLVars") if isinstance(report.get("SWMLVars"), dict) else {}
    day = started.date() if started else None
    event = CallEvent(
        kind="analyzed",
        provider="signalwire",
        event_id=f"{report['call_id']}:post_conversation:{report['ai_session_id']}",
        event_type="post_prompt",
        provider_call_id=report["call_id"],
        telephony_call_id=ids.get("telephony_call_id") or report["call_id"],
        organization_id=ids.get("organization_id"),
        agent_config_id=ids.get("agent_config_id"),
        call_record_id=ids.get("call_record_id"),
        from_number=report.get("caller_id_number"),
        status="ended",
        started_at=started,
        ended_at=ended,
        transcript=transcript,
        transcript_object=spoken or None,
        recording_url=swml_vars.get("record_call_url") if isinstance(swml_vars.get("record_call_url"), str) else None,
        analysis=answer,
        sentiment=(answer or {}).get("sentiment") if isinstance((answer or {}).get("sentiment"), str) else None,
        successful=(answer or {}).get("successful") if isinstance((answer or {}).get("successful"), bool) else None,
        disconnection_reason=report.get("call_ended_by") or ("hard_timeout" if report.get("hard_timeout") else None),
        cost=signalwire_cost(report, prices, on=day),
        usage={**usage.model_dump(mode="json"), "accounting": accounting_details(report)} if usage else None,
        metadata={"ai_session_id": report["ai_session_id"]},
    )
    return event.model_copy(update={"duration_seconds": event_duration(event)})


def _post_prompt_answer(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    parsed = [p for p in (data.get("parsed") or []) if isinstance(p, dict)]
    if parsed:
        return parsed[0]
    raw = data.get("raw")
    return {"summary": raw} if isinstance(raw, str) and raw.strip() else None


def status_event(form: dict[str, str], url: str) -> CallEvent:
    """A Compatibility voice status callback (`VoiceStatusCallbackPayload`)."""
    sid = form.get("CallSid")
    status = form.get("CallStatus")
    if not sid or not status:
        raise WebhookMalformed("signalwire: status callback without CallSid/CallStatus")
    ids = _url_ids(url)
    if status in _ENDED_STATUSES:
        kind, record_status = "ended", _ENDED_STATUSES[status]
    elif status == "in-progress":
        kind, record_status = "started", "ongoing"
    else:
        kind, record_status = "other", "registered"
    at = None
    if form.get("Timestamp"):
        try:
            at = parsedate_to_datetime(form["Timestamp"])
        except (TypeError, ValueError):
            at = None
    duration = int(form["CallDuration"]) if form.get("CallDuration", "").isdigit() else None
    direction = form.get("Direction", "")
    return CallEvent(
        kind=kind,
        provider="signalwire",
        event_id=f"{sid}:status:{status}",
        event_type=f"call.{status}",
        provider_call_id=sid,
        telephony_call_id=sid,
        organization_id=ids.get("organization_id"),
        agent_config_id=ids.get("agent_config_id"),
        call_record_id=ids.get("call_record_id"),
        direction="inbound" if direction == "inbound" else ("outbound" if direction.startswith("outbound") else None),
        from_number=form.get("From"),
        to_number=form.get("To"),
        status=record_status,
        started_at=at if kind == "started" else None,
        ended_at=at if kind == "ended" else None,
        duration_seconds=duration,
        recording_url=form.get("RecordingUrl") or None,
        disconnection_reason=status if kind == "ended" else None,
    )
