"""Property tests (hypothesis) of the vendor catalogue's resolution rules as the API applies them: config merging,
primary-provider selection and fallback order, schema validation naming the field, the
platform-choice rules, entity-tag preconditions and keyset pagination."""

from __future__ import annotations

import copy
import string
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard import calls, orgconfig
from switchboard.errors import InvalidInput, PreconditionFailed, PreconditionRequired
from switchboard.etag import check_precondition, make_etag
from switchboard.models import OrgConfigUpdate, OrgProvider, Provider, ProviderSelection
from switchboard.pagination import decode_cursor, encode_cursor
from switchboard.pipeline.catalog import BY_KEY, merge_config, order_by_priority
from switchboard.providers import registry
from tests.api.conftest import World, add_call

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
configs = st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=6), json_scalars, max_size=8)
# Generation can be slow on a loaded 2-core machine (and the first run builds Hypothesis's caches).
PURE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DB = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# --- merging ----------------------------------------------------------------------------------
@PURE
@given(configs, configs, configs)
def test_merge_is_defaults_then_overrides_then_secrets(defaults, overrides, secrets) -> None:
    before = copy.deepcopy((defaults, overrides, secrets))
    merged = merge_config(defaults, overrides, secrets)
    assert (defaults, overrides, secrets) == before  # inputs untouched
    assert set(merged) == set(defaults) | set(overrides) | set(secrets)
    for k, v in merged.items():
        assert v == (secrets[k] if k in secrets else overrides[k] if k in overrides else defaults[k])
    assert merge_config(merge_config(defaults, overrides), overrides) == merge_config(defaults, overrides)
    assert merge_config(defaults, {}) == defaults and merge_config({}, overrides) == overrides


@PURE
@given(st.sampled_from([e.key for e in BY_KEY.values()]), st.data())
def test_resolved_config_is_the_merge_and_never_holds_secrets(key, data) -> None:
    entry = BY_KEY[key]
    overrides = data.draw(st.dictionaries(st.sampled_from(sorted(entry.config_schema["properties"])), json_scalars, max_size=3))
    provider = Provider(key=key, type=entry.type, vendor=entry.vendor, name=entry.name, enabled=True,
                        config_schema=entry.config_schema, secrets_schema=entry.secrets_schema, default_config=entry.default_config)
    item = orgconfig._org_provider(uuid4(), provider, {"config": overrides, "is_enabled": True, "priority": 1, "updated_at": None},
                                   {entry.vendor: {"api_key": "…abcd"}})
    assert item.resolved_config == merge_config(entry.default_config, overrides)
    assert set(item.resolved_config) <= set(entry.config_schema["properties"])  # secrets are never merged in
    assert item.secrets.has_secrets and item.secrets.hints == {"api_key": "…abcd"}


# --- primary provider and fallback order --------------------------------------------------------
entries = st.lists(
    st.tuples(st.text(string.ascii_letters + " ", min_size=1, max_size=6), st.integers(-5, 5), st.booleans(), st.booleans()),
    min_size=0, max_size=8, unique_by=lambda t: t[0].casefold(),
)


def _items(rows) -> list[OrgProvider]:
    out = []
    for i, (name, priority, enabled, offered) in enumerate(rows):
        p = Provider(key=f"k{i}-tts", type="tts", vendor="v", name=name, enabled=offered, secrets_schema={})
        out.append(OrgProvider(provider=p, configured=True, is_enabled=enabled, priority=priority, config={},
                               resolved_config={}, etag='"x"'))
    return out


@PURE
@given(entries, st.randoms())
def test_chain_is_enabled_by_priority_then_name_and_primary_is_its_head(rows, rnd) -> None:
    items = _items(rows)
    chain = orgconfig.fallback_chain(items, "tts")
    expected = [i for i in items if i.is_enabled and i.provider.enabled]
    assert sorted(id(i) for i in chain) == sorted(id(i) for i in expected)
    keys = [(-i.priority, i.provider.name.casefold()) for i in chain]
    assert keys == sorted(keys)
    if expected:
        best = min(expected, key=lambda i: (-i.priority, i.provider.name.casefold()))
        assert chain[0] is best
    shuffled = items[:]
    rnd.shuffle(shuffled)
    assert [id(i) for i in orgconfig.fallback_chain(shuffled, "tts")] == [id(i) for i in chain]
    marked = orgconfig.mark_primaries(items)
    assert [i for i in marked if i.is_primary] == chain[:1]


@PURE
@given(st.lists(st.tuples(st.integers(-3, 3), st.booleans()), max_size=8))
def test_order_by_priority_keeps_exactly_the_enabled(rows) -> None:
    items = [{"name": f"n{i}", "priority": p, "on": on} for i, (p, on) in enumerate(rows)]
    ordered = order_by_priority(items, priority=lambda x: x["priority"], name=lambda x: x["name"], enabled=lambda x: x["on"])
    assert len(ordered) == sum(on for _, on in rows)
    assert all(a["priority"] >= b["priority"] for a, b in zip(ordered, ordered[1:]))


@DB
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=3, max_size=3))
async def test_the_api_primary_is_the_reference_choice(db, world: World, rows) -> None:
    keys = ["cartesia-tts", "espeak-tts", "openai-tts"]
    claims = world_claims(world)
    async with db.as_user(claims) as conn, conn.transaction(force_rollback=True):
        for key, (priority, enabled) in zip(keys, rows):
            await orgconfig.upsert_org_config(conn, world.org_a, key, OrgConfigUpdate(is_enabled=enabled, priority=priority),
                                              if_match=None, if_none_match="*")
        enabled = [(-p, BY_KEY[k].name.casefold(), k) for k, (p, on) in zip(keys, rows) if on]
        if not enabled:
            with pytest.raises(Exception, match="no tts provider is enabled"):
                await orgconfig.primary_provider(conn, world.org_a, "tts")
        else:
            assert (await orgconfig.primary_provider(conn, world.org_a, "tts")).provider.key == min(enabled)[2]


def world_claims(world: World):
    from switchboard.auth import verify_token
    return verify_token(world.owner_a.token)


# --- validation names the field -------------------------------------------------------------------
@PURE
@given(st.floats(-10, 10, allow_nan=False) | st.integers(-10, 10) | st.text(max_size=3))
def test_temperature_is_checked_against_the_schema(value) -> None:
    schema = BY_KEY["openai-llm"].config_schema
    errors = orgconfig.schema_errors(schema, merge_config(BY_KEY["openai-llm"].default_config, {"temperature": value}), "config")
    valid = isinstance(value, (int, float)) and 0 <= value <= 2
    assert (errors == []) == valid
    assert all(e.field == "config.temperature" for e in errors)


@PURE
@given(st.text(min_size=1, max_size=40))
def test_secret_errors_never_quote_the_value(value) -> None:
    schema = registry.descriptor("livekit").secrets_schema
    for e in orgconfig.schema_errors(schema, {"url": value, "api_key": value, "api_secret": value}, "secrets", reveal_values=False):
        assert len(value) < 4 or value not in e.message


# --- platform choice --------------------------------------------------------------------------------
CODES = ["retell", "vapi", "signalwire", "livekit"]
PLATFORMS = {c: {"id": uuid4(), "code": c, "is_active": True, "supports_custom_voices": c != "retell"} for c in CODES}


@PURE
@given(st.sampled_from(CODES), st.lists(st.sampled_from(CODES + ["twilio"]), max_size=4),
       st.dictionaries(st.sampled_from(CODES), st.integers(-20, 120), max_size=4))
def test_a_choice_is_valid_exactly_when_the_rules_hold(active, fallback, split) -> None:
    errors = orgconfig_selection_errors(ProviderSelection(active_provider=active, fallback_order=fallback, traffic_split=split))
    valid = (all(c in CODES for c in fallback) and active not in fallback and len(set(fallback)) == len(fallback)
             and all(0 <= w <= 100 for w in split.values()) and (not split or sum(split.values()) == 100))
    assert (errors == []) == valid


def orgconfig_selection_errors(selection):
    from switchboard.agents import selection_errors
    return selection_errors(selection, PLATFORMS)


# --- entity tags ------------------------------------------------------------------------------------
@PURE
@given(st.text(max_size=10), st.text(max_size=10), st.booleans())
def test_a_write_passes_only_on_the_current_tag(a, b, exists) -> None:
    current, other = make_etag(a), make_etag(a, b, "other")
    check_precondition(current, exists=exists, if_match=current)
    check_precondition(current, exists=exists, if_match=f"W/{current}, {other}")
    with pytest.raises(PreconditionFailed):
        check_precondition(current, exists=exists, if_match=other)
    with pytest.raises(PreconditionRequired):
        check_precondition(current, exists=exists, if_match=None)
    if exists:
        check_precondition(current, exists=True, if_match="*")
        with pytest.raises(PreconditionFailed):
            check_precondition(current, exists=True, if_match=None, if_none_match="*")
    else:
        check_precondition(current, exists=False, if_match=None, if_none_match="*")
        with pytest.raises(PreconditionFailed):
            check_precondition(current, exists=False, if_match="*")


# --- keyset pagination ---------------------------------------------------------------------------------
@PURE
@given(st.lists(st.text(max_size=30), max_size=3))
def test_cursors_round_trip_and_garbage_is_refused(values) -> None:
    assert decode_cursor(encode_cursor(*values), len(values)) == values
    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor(*values) + "!!", len(values))


@DB
@given(st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=0, max_size=14), st.integers(1, 5))
async def test_walking_the_pages_returns_every_call_once_in_order(db, world: World, starts, limit) -> None:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    async with db.as_service() as conn:
        async with conn.transaction(force_rollback=True):
            await conn.execute("delete from call_records where organization_id = %s", (world.org_a,))
            for s in starts:  # few distinct times: many ties for the id to break
                await add_call(conn, world.org_a, world.agent_a, started_at=None if s is None else base + timedelta(hours=s), cost=None)
            seen, cursor = [], None
            while True:
                page = await calls.list_calls(conn, world.org_a, limit=limit, cursor=cursor)
                assert len(page.items) <= limit
                seen += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
    assert len(seen) == len(starts) and len({c.id for c in seen}) == len(starts)
    order = [(c.started_at is not None, -(c.started_at.timestamp()) if c.started_at else 0, str(c.id)) for c in seen]
    assert order == sorted(order)


# --- search by number ---------------------------------------------------------------------------------
e164 = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)


@PURE
@given(e164, e164, st.integers(3, 15))
def test_a_number_search_matches_exactly_the_numbers_ending_so(number, other, n) -> None:
    for typed, tail in ((number, number), (number[-n:] if n < len(number) else number[1:], None)):
        if tail is None:
            if not typed.isdigit() or len(typed) < 3:
                continue
            tail = typed
        low, high = calls.number_range(typed)
        for candidate in (number, other):
            assert (low <= candidate[::-1] < high) == candidate.endswith(tail)
