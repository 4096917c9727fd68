"""Google Cloud Speech-to-Text and Text-to-Speech through livekit-plugins-google, at Google's
hosts or at the organisation's own gRPC endpoint (Private Service Connect, a regional gateway).

The plugin picks its endpoint from `location` only, so these subclasses build the client the
plugin would, with `api_endpoint` set. The service account signs its own JWT for each call
(the client library's `always_use_jwt_access`), so no token endpoint is reached. An endpoint on
the loopback interface (a local gateway, the contract tests' server) is reached without TLS
through gRPC's local credentials, which still carry the call's credentials and which gRPC
refuses for any peer that is not local."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.api_core.client_options import ClientOptions
from google.cloud import texttospeech
from google.cloud.speech_v1 import SpeechAsyncClient as SpeechAsyncClientV1
from google.cloud.speech_v2 import SpeechAsyncClient as SpeechAsyncClientV2
from google.oauth2 import service_account
from livekit.plugins import google


def _loopback(endpoint: str) -> bool:
    host = urlsplit(f"//{endpoint}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_at(client_cls: type, info: dict[str, Any], endpoint: str):
    """`client_cls` (an async gRPC client of google-cloud-*) at `endpoint`, as the service account."""
    credentials = service_account.Credentials.from_service_account_info(info)
    options = ClientOptions(api_endpoint=endpoint)
    if not _loopback(endpoint):
        return client_cls(credentials=credentials, client_options=options)
    transport_cls = client_cls.get_transport_class("grpc_asyncio")
    local = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    return client_cls(credentials=credentials, client_options=options,
                      transport=lambda **kwargs: transport_cls(**kwargs, ssl_channel_credentials=local))


class GoogleSTT(google.STT):
    def __init__(self, *, endpoint: str | None = None, **kwargs: Any) -> None:
        self._endpoint = endpoint
        super().__init__(**kwargs)

    async def _create_client(self, timeout: float):
        if self._endpoint is None:
            return await super()._create_client(timeout)
        client_cls = SpeechAsyncClientV2 if self._config.version == 2 else SpeechAsyncClientV1
        return client_at(client_cls, self._credentials_info, self._endpoint)


class GoogleTTS(google.TTS):
    def __init__(self, *, endpoint: str | None = None, **kwargs: Any) -> None:
        self._endpoint = endpoint
        super().__init__(**kwargs)

    def _ensure_client(self) -> texttospeech.TextToSpeechAsyncClient:
        if self._endpoint is not None and self._client is None:
            self._client = client_at(texttospeech.TextToSpeechAsyncClient, self._credentials_info, self._endpoint)
        return super()._ensure_client()
