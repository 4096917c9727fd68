"""A small local LiveKit server API for tests: Twirp (`POST /twirp/livekit.<Service>/<Method>`,
protobuf bodies) decoded with the real `livekit.protocol` messages, every request's bearer JWT
verified with the API key and secret (and its grants checked), every decoded request kept for
the test to assert on, and answers encoded as the service defines them.

    server = LiveKitTwirpServer(api_key, api_secret)
    url = await server.start()
    ...  LiveKitAPI(url=url, api_key=api_key, api_secret=api_secret) ...
    request = server.find("SIP", "CreateSIPInboundTrunk")   # a CreateSIPInboundTrunkRequest
    await server.stop()
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from google.protobuf.message import Message
from livekit.api import TokenVerifier
from livekit.protocol import agent_dispatch, room, sip

Handler = Callable[[Message], Message]


@dataclass
class TwirpCall:
    service: str
    method: str
    request: Message
    claims: Any


def _default_routes() -> dict[tuple[str, str], tuple[type[Message], Handler]]:
    ids = itertools.count(1)

    def trunk(req: sip.CreateSIPInboundTrunkRequest) -> sip.SIPInboundTrunkInfo:
        info = sip.SIPInboundTrunkInfo()
        info.CopyFrom(req.trunk)
        info.sip_trunk_id = f"ST_{next(ids):04d}"
        return info

    def rule(req: sip.CreateSIPDispatchRuleRequest) -> sip.SIPDispatchRuleInfo:
        info = sip.SIPDispatchRuleInfo()
        info.CopyFrom(req.dispatch_rule)
        info.sip_dispatch_rule_id = f"SDR_{next(ids):04d}"
        return info

    def update_rule(req: sip.UpdateSIPDispatchRuleRequest) -> sip.SIPDispatchRuleInfo:
        info = sip.SIPDispatchRuleInfo()
        info.CopyFrom(req.replace)
        info.sip_dispatch_rule_id = req.sip_dispatch_rule_id
        return info

    return {
        ("SIP", "CreateSIPInboundTrunk"): (sip.CreateSIPInboundTrunkRequest, trunk),
        ("SIP", "UpdateSIPInboundTrunk"): (sip.UpdateSIPInboundTrunkRequest, lambda r: sip.SIPInboundTrunkInfo(sip_trunk_id=r.sip_trunk_id)),
        ("SIP", "CreateSIPDispatchRule"): (sip.CreateSIPDispatchRuleRequest, rule),
        ("SIP", "UpdateSIPDispatchRule"): (sip.UpdateSIPDispatchRuleRequest, update_rule),
        ("SIP", "DeleteSIPDispatchRule"): (sip.DeleteSIPDispatchRuleRequest, lambda r: sip.SIPDispatchRuleInfo(sip_dispatch_rule_id=r.sip_dispatch_rule_id)),
        ("SIP", "DeleteSIPTrunk"): (sip.DeleteSIPTrunkRequest, lambda r: sip.SIPTrunkInfo(sip_trunk_id=r.sip_trunk_id)),
        ("SIP", "CreateSIPParticipant"): (sip.CreateSIPParticipantRequest, lambda r: sip.SIPParticipantInfo(
            participant_id=f"PA_{next(ids):04d}", participant_identity=r.participant_identity, room_name=r.room_name, sip_call_id=f"SCL_{next(ids):04d}")),
        ("AgentDispatchService", "CreateDispatch"): (agent_dispatch.CreateAgentDispatchRequest, lambda r: agent_dispatch.AgentDispatch(
            id=f"AD_{next(ids):04d}", agent_name=r.agent_name, room=r.room, metadata=r.metadata)),
        ("RoomService", "DeleteRoom"): (room.DeleteRoomRequest, lambda r: room.DeleteRoomResponse()),
        ("RoomService", "ListRooms"): (room.ListRoomsRequest, lambda r: room.ListRoomsResponse()),
    }


@dataclass
class LiveKitTwirpServer:
    api_key: str
    api_secret: str
    calls: list[TwirpCall] = field(default_factory=list)
    routes: dict[tuple[str, str], tuple[type[Message], Handler]] = field(default_factory=_default_routes)
    # (service, method) → (HTTP status, twirp code) to fail with, for error-path tests
    failures: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        package_service, method = request.match_info["service"], request.match_info["method"]
        if not package_service.startswith("livekit."):
            return web.json_response({"code": "bad_route", "msg": package_service}, status=404)
        service = package_service[len("livekit."):]
        auth = request.headers.get("Authorization", "")
        try:
            claims = TokenVerifier(self.api_key, self.api_secret).verify(auth.removeprefix("Bearer "))
        except Exception as exc:  # noqa: BLE001 - any bad token is unauthenticated
            return web.json_response({"code": "unauthenticated", "msg": str(exc)}, status=401)
        if service == "SIP":  # dialling needs the SIP call grant, managing trunks and rules the admin one
            needed = "call" if method in ("CreateSIPParticipant", "TransferSIPParticipant") else "admin"
            if not (claims.sip and getattr(claims.sip, needed)):
                return web.json_response({"code": "permission_denied", "msg": f"sip {needed} grant missing"}, status=403)
        video = claims.video
        if service in ("RoomService", "AgentDispatchService") and not (video and (video.room_admin or video.room_list or video.room_create)):
            return web.json_response({"code": "permission_denied", "msg": "room admin grant missing"}, status=403)
        if request.content_type != "application/protobuf":
            return web.json_response({"code": "malformed", "msg": f"content type {request.content_type}"}, status=400)
        route = self.routes.get((service, method))
        if route is None:
            return web.json_response({"code": "bad_route", "msg": f"{service}/{method}"}, status=404)
        request_cls, handler = route
        message = request_cls()
        message.ParseFromString(await request.read())
        self.calls.append(TwirpCall(service, method, message, claims))
        if (service, method) in self.failures:
            status, code = self.failures[(service, method)]
            return web.json_response({"code": code, "msg": "injected failure"}, status=status)
        return web.Response(body=handler(message).SerializeToString(), content_type="application/protobuf")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/twirp/{service}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def find(self, service: str, method: str) -> Message:
        for call in self.calls:
            if call.service == service and call.method == method:
                return call.request
        raise AssertionError(f"no {service}/{method} among {[(c.service, c.method) for c in self.calls]}")


def twirp_fixture(api_key: str, api_secret: str):
    """A pytest fixture serving a fresh `LiveKitTwirpServer` (its `url` set) for each test:

        twirp = twirp_fixture(API_KEY, API_SECRET)   # in a test module
    """
    import pytest

    @pytest.fixture
    async def _twirp():
        server = LiveKitTwirpServer(api_key, api_secret)
        server.url = await server.start()
        try:
            yield server
        finally:
            await server.stop()

    return _twirp
