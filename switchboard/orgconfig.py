# Size (over 400 lines): the catalogue and the organisations' configs validate against the same schemas (the platforms' leave with issue #12 point 1).
"""The catalogue (platforms and STT/TTS/LLM vendor services) and each organisation's configs
and secrets, for the admin app and the management API alike.

The catalog has two halves: the four platforms (`voice_ai_providers`, type `platform`, key =
platform code) and the STT/TTS/LLM vendor services (`providers`, key such as `openai-llm`). An
organisation overrides a service's defaults in `organization_provider_configs`; the resolved
config is defaults ⊕ overrides (`catalog.merge_config`), validated against the service's JSON
schema; the enabled services of a type, by priority then name (`catalog.order_by_priority`),
form its fallback chain, whose first is the primary. Secrets are stored per vendor through
`switchboard.secrets` and are never part of anything returned here: only whether they are set
and their hints.

Every function takes a connection opened as the caller (`db.as_user(claims)`), so RLS applies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import jsonschema
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from switchboard import secrets as secret_store
from switchboard.errors import FieldError, InvalidInput, NotFound
from switchboard.etag import check_precondition, make_etag
from switchboard.models import OrgConfigUpdate, OrgProvider, Price, Provider, ProviderType, SecretsStatus, ServiceType
from switchboard.pipeline.catalog import merge_config, order_by_priority
from switchboard.providers import registry
from switchboard.providers.schema import PUBLIC

_TYPE_ORDER = {"platform": 0, "stt": 1, "llm": 2, "tts": 3}


_NO_SECRETS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


def _platform_secrets_schema(code: str) -> dict[str, Any]:
    """The credentials a platform's adapter reads (its folder's `platform.py`), stored as the
    organisation's secret under vendor = platform code. Required: what every call needs."""
    if code not in registry.PLATFORMS:
        return _NO_SECRETS
    return registry.descriptor(code).secrets_schema


# --- validation ---------------------------------------------------------------------------
def _path(prefix: str, parts: Any) -> str:
    out = prefix
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _extra_keys(error: jsonschema.ValidationError) -> list[str]:
    allowed = set(error.schema.get("properties", {}))
    return sorted(k for k in error.instance if k not in allowed) if isinstance(error.instance, dict) else []


def schema_errors(schema: dict[str, Any], instance: Any, prefix: str, *, reveal_values: bool = True) -> list[FieldError]:
    """Every violation of `schema`, each naming its field (`config.temperature`). With
    `reveal_values=False` (secrets) the messages never quote the value given."""
    errors: list[FieldError] = []
    for e in sorted(_validator(schema).iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.validator)):
        where = _path(prefix, e.absolute_path)
        if e.validator == "additionalProperties":
            known = ", ".join(sorted(e.schema.get("properties", {}))) or "none"
            errors += [FieldError(f"{where}.{k}", f"is not a known field (known: {known})") for k in _extra_keys(e)]
        elif e.validator == "required":
            missing = e.message.split("'")[1] if "'" in e.message else ""
            errors.append(FieldError(f"{where}.{missing}" if missing else where, "is required"))
        elif reveal_values:
            errors.append(FieldError(where, e.message))
        else:
            errors.append(FieldError(where, _blind_message(e)))
    return errors


def _blind_message(e: jsonschema.ValidationError) -> str:
    v = e.validator_value
    return {
        "type": f"must be of type {v}",
        "minLength": f"is too short (at least {v} characters)",
        "maxLength": f"is too long (at most {v} characters)",
        "format": f"is not a valid {v}",
        "pattern": "does not have the expected form",
        "enum": f"must be one of {v}",
    }.get(str(e.validator), f"is not valid ({e.validator})")


# Fields naming where outbound requests go: a tenant's value must pass the egress policy
# (https, a public host) when it is saved, not only when it is used.
_URL_FIELDS = ("base_url", "space_url", "url")


def url_errors(values: dict[str, Any], prefix: str, *, reveal_values: bool = True,
               already: list[FieldError] = ()) -> list[FieldError]:
    """The egress policy's refusals of the URL fields in `values`, as field errors
    ("secrets.space_url: space_url must be an https URL on a public host"), for fields the
    schema did not already refuse. With `reveal_values=False` the reason (naming the host) is
    left out."""
    from switchboard import egress

    errors: list[FieldError] = []
    taken = {e.field for e in already}
    for name in _URL_FIELDS:
        if f"{prefix}.{name}" in taken:
            continue
        value = values.get(name) if isinstance(values, dict) else None
        if not isinstance(value, str) or not value:
            continue
        url = value if "://" in value else "https://" + value  # SignalWire's bare space name
        try:
            egress.check_url(url, what=name, schemes=("https", "wss") if name == "url" else ("https",))
        except egress.EgressRefused as exc:
            errors.append(FieldError(f"{prefix}.{name}", str(exc) if reveal_values else exc.rule))
    return errors


# --- the catalog ------------------------------------------------------------------------------
async def _prices(conn: AsyncConnection) -> dict[str, list[Price]]:
    cur = await conn.execute(
        """
        select distinct on (subject, component, unit) subject, component, unit, usd_per_unit, effective_from, source
        from public.price_book where effective_from <= current_date
        order by subject, component, unit, effective_from desc
        """
    )
    out: dict[str, list[Price]] = {}
    for r in await cur.fetchall():
        # "<key>:<model>": a vendor priced per model (switchboard.pipeline.catalog.price_subject)
        subject, _, model = r["subject"].partition(":")
        out.setdefault(subject, []).append(Price.model_validate(r | {"model": model or None}))
    return out


def _platform(row: dict[str, Any], prices: list[Price]) -> Provider:
    caps = row["capabilities"] or {}
    return Provider(
        key=row["code"], type="platform", vendor=row["code"], name=row["name"], description=row["description"],
        enabled=row["is_active"], capabilities=sorted(k for k, v in caps.items() if v),
        config_schema=None, secrets_schema=_platform_secrets_schema(row["code"]), default_config={},
        metadata={
            "cost_per_minute": float(row["cost_per_minute"]) if row["cost_per_minute"] is not None else None,
            "prices_effective_from": row["prices_effective_from"].isoformat() if row["prices_effective_from"] else None,
            "supports_custom_voices": row["supports_custom_voices"],
            "supports_preset_voices": row["supports_preset_voices"],
            "setup_complexity": row["setup_complexity"],
            "customization": row["customization"],
            "setup_instructions": row["setup_instructions"],
        },
        prices=prices,
    )


def _service(row: dict[str, Any], prices: list[Price]) -> Provider:
    return Provider(
        key=row["key"], type=row["type"], vendor=row["vendor"], name=row["name"], description=row["description"],
        enabled=row["is_active"], capabilities=list(row["capabilities"] or []), config_schema=row["config_schema"],
        secrets_schema=row["secrets_schema"] or _NO_SECRETS, default_config=row["default_config"] or {},
        metadata=row["metadata"] or {}, prices=prices,
    )


_PLATFORM_SQL = "select * from public.voice_ai_providers"
_SERVICE_SQL = "select * from public.providers"


async def list_providers(conn: AsyncConnection, *, type: ProviderType | None = None, enabled: bool | None = None) -> list[Provider]:
    """The whole catalog (or one type), platforms first, then STT, LLM, TTS; by name within a type."""
    prices = await _prices(conn)
    out: list[Provider] = []
    if type in (None, "platform"):
        out += [_platform(r, prices.get(r["code"], [])) for r in await (await conn.execute(_PLATFORM_SQL)).fetchall()]
    if type != "platform":
        sql, args = _SERVICE_SQL, ()
        if type is not None:
            sql, args = sql + " where type = %s", (type,)
        out += [_service(r, prices.get(r["key"], [])) for r in await (await conn.execute(sql, args)).fetchall()]
    if enabled is not None:
        out = [p for p in out if p.enabled == enabled]
    return sorted(out, key=lambda p: (_TYPE_ORDER[p.type], p.name.casefold(), p.key))


async def catalog_entry(conn: AsyncConnection, key: str) -> Provider:
    """One entry of the catalogue (a vendor service or a platform), with its prices."""
    prices = await _prices(conn)
    row = await (await conn.execute(_SERVICE_SQL + " where key = %s", (key,))).fetchone()
    if row is not None:
        return _service(row, prices.get(key, []))
    row = await (await conn.execute(_PLATFORM_SQL + " where code = %s", (key,))).fetchone()
    if row is not None:
        return _platform(row, prices.get(key, []))
    raise NotFound(f"no provider {key!r} in the catalog")


# --- organisation configs -------------------------------------------------------------------
def config_etag(organization_id: UUID, key: str, updated_at: datetime | None) -> str:
    return make_etag("orgcfg", organization_id, key, updated_at.isoformat() if updated_at else "absent")


def _required_fields(schema: dict[str, Any]) -> list[str]:
    return list(schema.get("required", []))


def _secrets_status(provider: Provider, hints: dict[str, dict[str, str]]) -> SecretsStatus:
    stored = hints.get(provider.vendor)
    return SecretsStatus(
        vendor=provider.vendor, has_secrets=stored is not None, hints=stored or {},
        required_fields=_required_fields(provider.secrets_schema),
    )


def _org_provider(organization_id: UUID, provider: Provider, row: dict[str, Any] | None,
                  hints: dict[str, dict[str, str]] | None) -> OrgProvider:
    overrides = (row or {}).get("config") or {}
    updated_at = (row or {}).get("updated_at")
    return OrgProvider(
        provider=provider,
        configured=row is not None,
        is_enabled=bool(row and row["is_enabled"]),
        priority=(row or {}).get("priority") or 0,
        config=overrides,
        resolved_config=merge_config(provider.default_config, overrides) if provider.type != "platform" else {},
        secrets=_secrets_status(provider, hints) if hints is not None else None,
        updated_at=updated_at,
        etag=config_etag(organization_id, provider.key, updated_at),
    )


_CONFIG_ROWS_SQL = """
    select p.key, c.config, c.is_enabled, c.priority, c.updated_at
    from public.organization_provider_configs c join public.providers p on p.id = c.provider_id
    where c.organization_id = %s
"""


def mark_primaries(items: list[OrgProvider]) -> list[OrgProvider]:
    """Set `is_primary` on the first of each type's chain (the resolution rule: enabled, by priority
    descending, then name)."""
    for t in ("stt", "tts", "llm"):
        chain = fallback_chain(items, t)
        for item in items:
            if item.provider.type == t:
                item.is_primary = bool(chain) and item is chain[0]
    return items


def fallback_chain(items: list[OrgProvider], type: ServiceType) -> list[OrgProvider]:
    """The enabled, offered services of one type in the order they are tried; the first is the primary."""
    candidates = sorted((i for i in items if i.provider.type == type and i.provider.enabled), key=lambda i: i.provider.key)
    return order_by_priority(
        candidates, priority=lambda i: i.priority, name=lambda i: i.provider.name, enabled=lambda i: i.is_enabled
    )


async def list_org_providers(
    conn: AsyncConnection, organization_id: UUID, *, type: ProviderType | None = None,
    enabled: bool | None = None, include_secrets: bool = False,
) -> list[OrgProvider]:
    """Every catalogue entry as the organisation sees it. `include_secrets` (admins only: RLS
    hides secrets from members) adds whether each vendor's secrets are set, with their hints."""
    providers = await list_providers(conn)
    rows = {r["key"]: r for r in await (await conn.execute(_CONFIG_ROWS_SQL, (organization_id,))).fetchall()}
    hints = await secret_store.secret_hints(conn, organization_id) if include_secrets else None
    items = mark_primaries([_org_provider(organization_id, p, rows.get(p.key), hints) for p in providers])
    if type is not None:
        items = [i for i in items if i.provider.type == type]
    if enabled is not None:
        items = [i for i in items if i.is_enabled == enabled]
    return items


async def get_org_provider(conn: AsyncConnection, organization_id: UUID, key: str, *, include_secrets: bool = False) -> OrgProvider:
    provider = await catalog_entry(conn, key)
    if provider.type == "platform":
        hints = await secret_store.secret_hints(conn, organization_id) if include_secrets else None
        return _org_provider(organization_id, provider, None, hints)
    # The primary flag depends on the other services of the type, so read the type's chain.
    for item in await list_org_providers(conn, organization_id, type=provider.type, include_secrets=include_secrets):
        if item.provider.key == key:
            return item
    raise NotFound(f"no provider {key!r} in the catalog")  # pragma: no cover - raced with a catalog sync


async def primary_provider(conn: AsyncConnection, organization_id: UUID, type: ServiceType, *,
                           include_secrets: bool = False) -> OrgProvider:
    chain = fallback_chain(await list_org_providers(conn, organization_id, type=type, include_secrets=include_secrets), type)
    if not chain:
        raise NotFound(f"no {type} provider is enabled for this organization")
    return chain[0]


async def _service_for_config(conn: AsyncConnection, key: str) -> dict[str, Any]:
    row = await (await conn.execute("select id, key, type, default_config, config_schema from public.providers where key = %s", (key,))).fetchone()
    if row is not None:
        return row
    if await (await conn.execute("select 1 from public.voice_ai_providers where code = %s", (key,))).fetchone():
        raise InvalidInput(FieldError(
            "key", f"{key!r} is a platform: its settings are made per agent (the agent's provider settings) "
                   f"and its credentials are the {key} secrets"))
    raise NotFound(f"no provider {key!r} in the catalog")


async def _lock_config(conn: AsyncConnection, organization_id: UUID, provider_id: UUID) -> dict[str, Any] | None:
    # Serialise writers of one (organisation, provider), including the first insert, which no
    # row lock can cover.
    await conn.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"orgcfg:{organization_id}:{provider_id}",))
    return await (await conn.execute(
        "select id, config, is_enabled, priority, updated_at from public.organization_provider_configs "
        "where organization_id = %s and provider_id = %s",
        (organization_id, provider_id),
    )).fetchone()


async def upsert_org_config(
    conn: AsyncConnection, organization_id: UUID, key: str, update: OrgConfigUpdate, *,
    if_match: str | None, if_none_match: str | None = None, updated_by: UUID | None = None,
    include_secrets: bool = False,
) -> OrgProvider:
    """Replace the organisation's overrides of one service (and set enabled / priority).
    The resolved config must satisfy the service's schema; the write must name the version it
    was based on (`if_match`, or `if_none_match="*"` to create)."""
    service = await _service_for_config(conn, key)
    errors = schema_errors(service["config_schema"] or {}, merge_config(service["default_config"] or {}, update.config), "config")
    errors += url_errors(update.config, "config", already=errors)
    if errors:
        raise InvalidInput(errors)
    current = await _lock_config(conn, organization_id, service["id"])
    check_precondition(
        config_etag(organization_id, key, current["updated_at"] if current else None), exists=current is not None,
        if_match=if_match, if_none_match=if_none_match, what=f"the {key} config",
    )
    is_enabled = update.is_enabled if update.is_enabled is not None else bool(current and current["is_enabled"])
    priority = update.priority if update.priority is not None else (current["priority"] if current else 0)
    await conn.execute(
        """
        insert into public.organization_provider_configs (organization_id, provider_id, config, is_enabled, priority, updated_by)
        values (%s, %s, %s, %s, %s, %s)
        on conflict (organization_id, provider_id) do update set
          config = excluded.config, is_enabled = excluded.is_enabled, priority = excluded.priority,
          updated_by = excluded.updated_by
        """,
        (organization_id, service["id"], Jsonb(update.config), is_enabled, priority, updated_by),
    )
    return await get_org_provider(conn, organization_id, key, include_secrets=include_secrets)


async def delete_org_config(conn: AsyncConnection, organization_id: UUID, key: str, *, if_match: str | None = None) -> None:
    """Forget the organisation's overrides (the service goes back to its defaults, disabled).
    `if_match`, when given, must be the current version."""
    service = await _service_for_config(conn, key)
    current = await _lock_config(conn, organization_id, service["id"])
    if current is None:
        raise NotFound(f"this organization has no {key} config")
    if if_match is not None:
        check_precondition(config_etag(organization_id, key, current["updated_at"]), exists=True,
                           if_match=if_match, what=f"the {key} config")
    await conn.execute("delete from public.organization_provider_configs where id = %s", (current["id"],))


# --- secrets --------------------------------------------------------------------------------
async def put_provider_secrets(
    conn: AsyncConnection, organization_id: UUID, key: str, values: dict[str, str], *, updated_by: UUID | None = None
) -> SecretsStatus:
    """Validate against the entry's secrets schema and store encrypted under its vendor
    (replacing what was there). Errors never quote a value."""
    provider = await catalog_entry(conn, key)
    if not provider.secrets_schema.get("properties"):
        raise InvalidInput(FieldError("secrets", f"{key} needs no secrets"))
    errors = schema_errors(provider.secrets_schema, values, "secrets", reveal_values=False)
    errors += url_errors(values, "secrets", reveal_values=False, already=errors)
    if errors:
        raise InvalidInput(errors)
    public = frozenset(k for k, spec in provider.secrets_schema.get("properties", {}).items() if spec.get(PUBLIC))
    hints = await secret_store.put_secret(conn, organization_id, provider.vendor, values, updated_by=updated_by,
                                          public_fields=public)
    return SecretsStatus(vendor=provider.vendor, has_secrets=True, hints=hints,
                         required_fields=_required_fields(provider.secrets_schema))


async def delete_provider_secrets(conn: AsyncConnection, organization_id: UUID, key: str) -> None:
    provider = await catalog_entry(conn, key)
    if not await secret_store.delete_secret(conn, organization_id, provider.vendor):
        raise NotFound(f"no {provider.vendor} secrets are stored for this organization")
