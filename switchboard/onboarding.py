"""Onboarding (the new-user flow) in one transaction as the user: a new organisation
(the caller becomes its owner), its first agent spec on the chosen platform, that platform's
deployment row (pending sync), and optionally a phone number routed to the agent.

The platform choice itself comes from `recommend_provider` (the provider layer); this only
records what the user accepted. Takes a connection from `db.as_user(claims)`.
"""

from __future__ import annotations

import re
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from switchboard import orgs
from switchboard.models import Organization
from switchboard.spec import VoiceSpec
from switchboard.errors import Refused

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
DEFAULT_PROMPT = (
    "You are the friendly phone assistant of {org}. Greet the caller, find out what they need, "
    "answer briefly and politely, and offer to take a message when you cannot help."
)


class OnboardingError(Refused, ValueError):
    """The answers cannot be used; the message says which and why."""


class SetUp(BaseModel):
    organization: Organization
    agent_id: UUID
    platform: str
    phone_number: str | None = None


async def set_up_organization(
    conn: AsyncConnection, name: str, *, platform: str, custom_voice: bool, phone_number: str | None = None,
) -> SetUp:
    phone_number = (phone_number or "").strip() or None
    if phone_number and not E164.match(phone_number):
        raise OnboardingError("the phone number must be in E.164 form, e.g. +15551234567")
    cur = await conn.execute(
        "select id, name, supports_custom_voices from public.voice_ai_providers where code = %s and is_active",
        (platform,),
    )
    row = await cur.fetchone()
    if row is None:
        raise OnboardingError(f"{platform!r} is not a platform this installation offers")
    if custom_voice and not row["supports_custom_voices"]:
        raise OnboardingError(f"{row['name']} takes preset voices only; choose a platform that supports custom voices")
    org = await orgs.create_organization(conn, name)
    # A custom voice's id is entered on the agent page (empty until then); a preset starts on the
    # spec's default voice.
    voice = (VoiceSpec(vendor="cartesia", voice_id="", custom=True) if custom_voice else VoiceSpec()).model_dump()
    cur = await conn.execute(
        """
        insert into public.agent_configs (organization_id, name, prompt, begin_message, voice, active_provider_id, tools)
        values (%s, %s, %s, %s, %s, %s, %s) returning id
        """,
        (org.id, f"{org.name} voice agent", DEFAULT_PROMPT.format(org=org.name),
         f"Hello, {org.name}, how can I help?", Jsonb(voice), row["id"],
         Jsonb([{"type": "end_call", "name": "end_call"}])),
    )
    agent_id = (await cur.fetchone())["id"]
    await conn.execute(
        "insert into public.provider_configs (organization_id, agent_config_id, provider_id, is_default) "
        "values (%s, %s, %s, true)",
        (org.id, agent_id, row["id"]),
    )
    if phone_number:
        cur = await conn.execute("select exists(select 1 from public.phone_numbers where e164 = %s) as taken",
                                 (phone_number,))
        if (await cur.fetchone())["taken"]:
            raise OnboardingError(f"{phone_number} is already connected to another agent")
        await conn.execute(
            "insert into public.phone_numbers (organization_id, agent_config_id, e164, label) values (%s, %s, %s, %s)",
            (org.id, agent_id, phone_number, "Main number"),
        )
    return SetUp(organization=org, agent_id=agent_id, platform=platform, phone_number=phone_number)
