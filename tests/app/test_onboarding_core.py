"""Onboarding and per-platform settings in the core, against the real database and RLS."""

from __future__ import annotations

import pytest

from switchboard.deployments import SettingsError, get_platform_settings, set_platform_settings
from switchboard.onboarding import OnboardingError, set_up_organization
from tests.app.factories import make_user


async def test_set_up_creates_org_agent_deployment_and_number(db):
    user = await make_user(db)
    async with db.as_user(user) as conn:
        done = await set_up_organization(conn, "Acme Dental", platform="livekit", custom_voice=True,
                                         phone_number="+15551234567")
    async with db.as_service() as conn:
        cur = await conn.execute(
            "select m.role::text as role, a.voice, vp.code, pc.sync_status, pc.is_default, n.e164 "
            "from memberships m join agent_configs a on a.organization_id = m.organization_id "
            "join voice_ai_providers vp on vp.id = a.active_provider_id "
            "join provider_configs pc on pc.agent_config_id = a.id "
            "join phone_numbers n on n.agent_config_id = a.id where m.user_id = %s", (user.sub,))
        rows = await cur.fetchall()
    assert len(rows) == 1
    r = rows[0]
    assert (r["role"], r["code"], r["sync_status"], r["is_default"], r["e164"]) == (
        "owner", "livekit", "pending", True, "+15551234567")
    assert r["voice"]["custom"] is True
    assert done.agent_id and done.organization.name == "Acme Dental"


async def test_custom_voice_on_a_preset_only_platform_is_refused_and_nothing_is_left(db):
    user = await make_user(db)
    with pytest.raises(OnboardingError, match="preset voices only"):
        async with db.as_user(user) as conn:
            await set_up_organization(conn, "Acme", platform="retell", custom_voice=True)
    with pytest.raises(OnboardingError, match="E.164"):
        async with db.as_user(user) as conn:
            await set_up_organization(conn, "Acme", platform="vapi", custom_voice=False, phone_number="555-1234")
    async with db.as_service() as conn:
        cur = await conn.execute("select count(*) as n from organizations")
        assert (await cur.fetchone())["n"] == 0


async def test_platform_settings_round_trip_and_isolation(db):
    user = await make_user(db)
    async with db.as_user(user) as conn:
        done = await set_up_organization(conn, "Acme", platform="retell", custom_voice=False)
        org = done.organization.id
        await set_platform_settings(conn, org, done.agent_id, "vapi", {"silenceTimeoutSeconds": 20})
        assert await get_platform_settings(conn, org, done.agent_id, "vapi") == {"silenceTimeoutSeconds": 20}
        assert await get_platform_settings(conn, org, done.agent_id, "retell") == {}
    stranger = await make_user(db)
    async with db.as_user(stranger) as conn:
        assert await get_platform_settings(conn, org, done.agent_id, "vapi") == {}
        with pytest.raises(SettingsError):
            await set_platform_settings(conn, org, done.agent_id, "vapi", {"x": 1})
