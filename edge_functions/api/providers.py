"""The catalogue routes (under `/providers`, its historical name): voice-AI platforms and STT/TTS/LLM
vendor services alike, and the current organisation's configs, secrets and primary vendor
service per type."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from edge_functions.api.deps import Caller, caller, get_database
from edge_functions.api.errors import ApiRoute, errors
from switchboard import orgconfig
from switchboard.db import Database
from switchboard.models import OrgConfigUpdate, OrgProvider, Provider, ProviderType, SecretsStatus, SecretsUpdate, ServiceType
from switchboard.providers import registry

router = APIRouter(route_class=ApiRoute)
ETAG = {"ETag": {"description": "the version; send it back in If-Match to change or delete this", "schema": {"type": "string"}}}
# Parameters are typed without `| None`: an HTTP header or query parameter is absent or a string,
# never null, and the document says so (absent still reads as None).
IF_MATCH = Header(None, alias="If-Match", description="ETag of the version this change is based on "
                  "(a PUT needs it, or If-None-Match: *, else 428; DELETE checks it when sent)")
IF_NONE_MATCH = Header(None, alias="If-None-Match", description="`*` to create a config only if none exists")
KeyPath = Annotated[str, Path(description="a catalog key: openai-llm, cartesia-tts, … or a platform code: "
                                          + ", ".join(registry.codes()))]

@router.get("/providers", response_model=list[Provider], tags=["catalog"], responses=errors(422),
            summary="List the catalog: platforms and STT/TTS/LLM services")
async def list_providers(
    type: ProviderType = Query(None, description="stt, tts, llm or platform"),  # type: ignore[assignment]
    enabled: bool = Query(None, description="true: only what this installation offers"),  # type: ignore[assignment]
    db: Database = Depends(get_database),
) -> list[Provider]:
    """Public reference data (no token needed): schemas, defaults, capabilities and today's prices."""
    async with db.as_anon() as conn:
        return await orgconfig.list_providers(conn, type=type, enabled=enabled)

@router.get("/providers/{key}", response_model=Provider, tags=["catalog"], responses=errors(404, 422),
            summary="One catalog entry")
async def get_provider(key: KeyPath, db: Database = Depends(get_database)) -> Provider:
    async with db.as_anon() as conn:
        return await orgconfig.catalog_entry(conn, key)

ORG = "/organizations/current/providers"

@router.get(ORG, response_model=list[OrgProvider], tags=["organization platforms and vendors"],
            responses=errors(401, 403, 404, 422), summary="Every platform and vendor service, with this organisation's config")
async def list_org_providers(
    type: ProviderType = Query(None, description="stt, tts, llm or platform"),  # type: ignore[assignment]
    enabled: bool = Query(None, description="true: only the organisation's enabled ones"),  # type: ignore[assignment]
    who: Caller = Depends(caller),
) -> list[OrgProvider]:
    """Resolved configs (defaults ⊕ overrides; never secrets). Scope: read. With admin:secrets,
    each entry also says whether its vendor's secrets are set, with their last four characters."""
    async with who.session("read") as (conn, access):
        return await orgconfig.list_org_providers(conn, access.organization_id, type=type, enabled=enabled,
                                                  include_secrets=access.can("admin:secrets"))

async def _get_config(key: str, response: Response, who: Caller) -> OrgProvider:
    async with who.session("read") as (conn, access):
        item = await orgconfig.get_org_provider(conn, access.organization_id, key,
                                                include_secrets=access.can("admin:secrets"))
    response.headers["ETag"] = item.etag
    return item

@router.get(ORG + "/{key}", response_model=OrgProvider, tags=["organization platforms and vendors"],
            responses={200: {"headers": ETAG}, **errors(401, 403, 404, 422)}, summary="One platform or vendor service, with this organisation's config")
async def get_org_provider(key: KeyPath, response: Response, who: Caller = Depends(caller)) -> OrgProvider:
    """Scope: read."""
    return await _get_config(key, response, who)

@router.get(ORG + "/{key}/config", response_model=OrgProvider, tags=["organization platforms and vendors"],
            responses={200: {"headers": ETAG}, **errors(401, 403, 404, 422)}, summary="This organisation's config of a platform or vendor service")
async def get_org_config(key: KeyPath, response: Response, who: Caller = Depends(caller)) -> OrgProvider:
    """Scope: read. The ETag header is the version to send back in If-Match."""
    return await _get_config(key, response, who)

@router.put(ORG + "/{key}/config", response_model=OrgProvider, tags=["organization platforms and vendors"],
            responses={200: {"headers": ETAG}, **errors(401, 403, 404, 412, 422, 428)}, summary="Set this organisation's config of a platform or vendor service")
async def put_org_config(
    key: KeyPath, body: OrgConfigUpdate, response: Response, who: Caller = Depends(caller),
    if_match: str = IF_MATCH, if_none_match: str = IF_NONE_MATCH,  # type: ignore[assignment]
) -> OrgProvider:
    """Scope: write. `config` replaces the overrides; the resolved config must satisfy the
    provider's `config_schema` (422 names each offending field). Send the ETag of your last read
    in If-Match (or If-None-Match: * to create): a stale one gets 412, none 428."""
    async with who.session("write") as (conn, access):
        item = await orgconfig.upsert_org_config(
            conn, access.organization_id, key, body, if_match=if_match, if_none_match=if_none_match,
            updated_by=access.user_id, include_secrets=access.can("admin:secrets"),
        )
    response.headers["ETag"] = item.etag
    return item

@router.delete(ORG + "/{key}/config", status_code=204, tags=["organization platforms and vendors"],
               responses=errors(401, 403, 404, 412, 422), summary="Forget this organisation's config of a platform or vendor service")
async def delete_org_config(key: KeyPath, who: Caller = Depends(caller),
                            if_match: str = IF_MATCH) -> Response:  # type: ignore[assignment]
    """Scope: write. The entry goes back to its defaults, disabled. If-Match is checked when sent."""
    async with who.session("write") as (conn, access):
        await orgconfig.delete_org_config(conn, access.organization_id, key, if_match=if_match)
    return Response(status_code=204)

@router.put(ORG + "/{key}/secrets", response_model=SecretsStatus, tags=["organization platforms and vendors"],
            responses=errors(401, 403, 404, 422), summary="Set the API keys of an entry's vendor or platform")
async def put_secrets(key: KeyPath, body: SecretsUpdate, who: Caller = Depends(caller)) -> SecretsStatus:
    """Scope: admin:secrets. Write-only: stored encrypted under the entry's vendor (one OpenAI
    key serves openai-stt, -llm and -tts); the answer holds only hints (last four characters)."""
    async with who.session("admin:secrets") as (conn, access):
        return await orgconfig.put_provider_secrets(conn, access.organization_id, key, body.secrets,
                                                    updated_by=access.user_id)

@router.delete(ORG + "/{key}/secrets", status_code=204, tags=["organization platforms and vendors"],
               responses=errors(401, 403, 404, 422), summary="Remove the API keys of an entry's vendor or platform")
async def delete_secrets(key: KeyPath, who: Caller = Depends(caller)) -> Response:
    """Scope: admin:secrets."""
    async with who.session("admin:secrets") as (conn, access):
        await orgconfig.delete_provider_secrets(conn, access.organization_id, key)
    return Response(status_code=204)

@router.get(ORG + "/{type}/primary", response_model=OrgProvider, tags=["organization platforms and vendors"],
            responses=errors(401, 403, 404, 422), summary="The primary vendor service of a type")
async def get_primary(type: ServiceType, who: Caller = Depends(caller)) -> OrgProvider:
    """Scope: read. The resolution rule: the enabled entries of the type by priority (highest
    first), then name; the first is the primary. 404 when none is enabled."""
    async with who.session("read") as (conn, access):
        return await orgconfig.primary_provider(conn, access.organization_id, type,
                                                include_secrets=access.can("admin:secrets"))
