-- Switchboard foundation: tenants, the platform registry and prices, agent specs, provider
-- configs, phone numbers, calls and their costs, the STT/TTS/LLM catalog of seed 003,
-- encrypted secrets, the webhook inbox and dead letters, provider health.
-- Every tenant table has row-level security keyed on organization membership.

-- ---------------------------------------------------------------------------------------
-- Tenancy
-- ---------------------------------------------------------------------------------------
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 200),
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create type public.member_role as enum ('owner', 'admin', 'member');

create table public.memberships (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.member_role not null default 'member',
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);
create index memberships_user_id_idx on public.memberships (user_id);

create schema if not exists private;
grant usage on schema private to anon, authenticated, service_role;

-- Security definer so that policies on memberships itself do not recurse.
create function private.user_org_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$ select m.organization_id from public.memberships m where m.user_id = auth.uid() $$;

create function private.user_admin_org_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.organization_id from public.memberships m
  where m.user_id = auth.uid() and m.role in ('owner', 'admin')
$$;

create function private.user_owner_org_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.organization_id from public.memberships m
  where m.user_id = auth.uid() and m.role = 'owner'
$$;

grant execute on all functions in schema private to anon, authenticated, service_role;

-- Creating an organisation makes the caller its owner, atomically.
create function public.create_organization(p_name text) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_org uuid;
begin
  if v_user is null then
    raise exception 'not signed in' using errcode = '42501';
  end if;
  insert into public.organizations (name, created_by) values (p_name, v_user) returning id into v_org;
  insert into public.memberships (organization_id, user_id, role) values (v_org, v_user, 'owner');
  return v_org;
end
$$;
revoke execute on function public.create_organization(text) from public, anon;
grant execute on function public.create_organization(text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Platform registry (seed 000) and the price book (prices are data, with an effective date)
-- ---------------------------------------------------------------------------------------
create table public.voice_ai_providers (
  id uuid primary key default gen_random_uuid(),
  code text unique not null,
  name text not null,
  description text,
  is_active boolean not null default true,
  supports_custom_voices boolean not null default false,
  supports_preset_voices boolean not null default true,
  -- Typical all-in price per minute (platform + STT + LLM + TTS + telephony), for comparison.
  cost_per_minute numeric(8, 4),
  prices_effective_from date,
  setup_instructions text,
  capabilities jsonb not null default '{}'::jsonb,
  setup_complexity text check (setup_complexity in ('low', 'medium', 'high')),
  customization text check (customization in ('medium', 'high', 'very_high')),
  created_at timestamptz not null default now()
);

-- Unit prices per component. subject = a platform code ('retell') or a catalog provider key
-- ('openai-llm'). The price in force on a day is the row with the latest effective_from <= day.
create table public.price_book (
  id bigint generated always as identity primary key,
  subject text not null,
  component text not null check (component in ('platform', 'stt', 'llm', 'tts', 'telephony')),
  unit text not null check (unit in ('minute', '1m_input_tokens', '1m_output_tokens', '1k_characters')),
  usd_per_unit numeric(14, 8) not null check (usd_per_unit >= 0),
  effective_from date not null,
  source text,
  unique (subject, component, unit, effective_from)
);

-- ---------------------------------------------------------------------------------------
-- Agent specs, per-platform configs, phone numbers
-- ---------------------------------------------------------------------------------------
create table public.agent_configs (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null default 'Voice agent',
  prompt text not null default '',
  begin_message text,
  voice jsonb not null default '{}'::jsonb,          -- canonical voice: {vendor, voice_id, custom}
  language text not null default 'en-US',
  tools jsonb not null default '[]'::jsonb,
  analysis jsonb not null default '{}'::jsonb,       -- post-call analysis wishes
  max_duration_seconds integer not null default 1800 check (max_duration_seconds between 10 and 14400),
  metadata jsonb not null default '{}'::jsonb,
  active_provider_id uuid references public.voice_ai_providers (id),
  fallback_order text[] not null default '{}',       -- platform codes tried after the active one
  traffic_split jsonb not null default '{}'::jsonb,  -- {"retell": 50, "vapi": 50}; empty = all on active
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index agent_configs_org_idx on public.agent_configs (organization_id);

create table public.provider_configs (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  agent_config_id uuid not null references public.agent_configs (id) on delete cascade,
  provider_id uuid not null references public.voice_ai_providers (id),
  agent_id text,          -- the platform's own id: retell agent, vapi assistant, signalwire fabric agent, livekit dispatch rule
  llm_id text,            -- the platform's LLM id where it has one (Retell LLM)
  settings jsonb not null default '{}'::jsonb,
  voice_id text,          -- the platform's voice id for this agent
  is_active boolean not null default true,
  is_default boolean not null default false,
  sync_status text not null default 'pending' check (sync_status in ('pending', 'synced', 'failed', 'deleted')),
  sync_error text,
  sync_attempts integer not null default 0,
  synced_at timestamptz,
  synced_spec_hash text,
  next_sync_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (agent_config_id, provider_id)
);
create index provider_configs_org_idx on public.provider_configs (organization_id);
create index provider_configs_provider_id_idx on public.provider_configs (provider_id);

create table public.phone_numbers (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  agent_config_id uuid references public.agent_configs (id) on delete set null,
  e164 text not null unique check (e164 ~ '^\+[1-9][0-9]{6,14}$'),
  carrier text not null default 'signalwire',
  label text,
  created_at timestamptz not null default now()
);
create index phone_numbers_org_idx on public.phone_numbers (organization_id);

-- ---------------------------------------------------------------------------------------
-- Calls and what they cost
-- ---------------------------------------------------------------------------------------
create table public.call_records (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  agent_config_id uuid references public.agent_configs (id) on delete set null,
  provider_id uuid references public.voice_ai_providers (id),
  provider_call_id text,                 -- the platform's call id
  telephony_call_id text,                -- the carrier's call id (SignalWire call_id / CallSid)
  direction text not null default 'inbound' check (direction in ('inbound', 'outbound', 'web')),
  from_number text,
  to_number text,
  status text not null default 'registered'
    check (status in ('registered', 'ongoing', 'ended', 'error', 'not_connected')),
  started_at timestamptz,
  ended_at timestamptz,
  duration_seconds integer check (duration_seconds >= 0),
  transcript text,
  transcript_object jsonb,
  recording_url text,
  analysis jsonb,
  sentiment text,
  successful boolean,
  disconnection_reason text,
  experiment_arm text,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider_id, provider_call_id)
);
create unique index call_records_telephony_call_id_key on public.call_records (telephony_call_id)
  where telephony_call_id is not null;
create index call_records_org_started_idx on public.call_records (organization_id, started_at desc, id);
create index call_records_org_agent_started_idx on public.call_records (organization_id, agent_config_id, started_at desc);
create index call_records_org_provider_started_idx on public.call_records (organization_id, provider_id, started_at desc);

create table public.provider_usage (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  provider_id uuid references public.voice_ai_providers (id),
  call_id uuid not null unique references public.call_records (id) on delete cascade,
  usage_date date not null default (now() at time zone 'utc')::date,  -- the call's start day (UTC)
  duration_seconds integer not null default 0 check (duration_seconds >= 0),
  cost_amount numeric(12, 6) not null default 0,
  stt_cost numeric(12, 6) not null default 0,
  llm_cost numeric(12, 6) not null default 0,
  tts_cost numeric(12, 6) not null default 0,
  platform_cost numeric(12, 6) not null default 0,
  telephony_cost numeric(12, 6) not null default 0,
  currency text not null default 'USD',
  cost_source text not null default 'reported' check (cost_source in ('reported', 'computed', 'estimated')),
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index provider_usage_org_date_idx on public.provider_usage (organization_id, usage_date);

-- Daily rollup kept by the ingestion path (a trigger on provider_usage), so the dashboard's
-- cost does not grow with the number of calls.
create table public.usage_daily (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  day date not null,
  provider_id uuid not null references public.voice_ai_providers (id),
  calls integer not null default 0,
  duration_seconds bigint not null default 0,
  cost_amount numeric(16, 6) not null default 0,
  stt_cost numeric(16, 6) not null default 0,
  llm_cost numeric(16, 6) not null default 0,
  tts_cost numeric(16, 6) not null default 0,
  platform_cost numeric(16, 6) not null default 0,
  telephony_cost numeric(16, 6) not null default 0,
  primary key (organization_id, day, provider_id)
);

create function private.apply_usage_delta() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.provider_id is not null then
    update public.usage_daily set
      calls = calls - 1,
      duration_seconds = duration_seconds - old.duration_seconds,
      cost_amount = cost_amount - old.cost_amount,
      stt_cost = stt_cost - old.stt_cost,
      llm_cost = llm_cost - old.llm_cost,
      tts_cost = tts_cost - old.tts_cost,
      platform_cost = platform_cost - old.platform_cost,
      telephony_cost = telephony_cost - old.telephony_cost
    where organization_id = old.organization_id and day = old.usage_date and provider_id = old.provider_id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.provider_id is not null then
    insert into public.usage_daily as u (organization_id, day, provider_id, calls, duration_seconds,
      cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost)
    values (new.organization_id, new.usage_date, new.provider_id, 1, new.duration_seconds,
      new.cost_amount, new.stt_cost, new.llm_cost, new.tts_cost, new.platform_cost, new.telephony_cost)
    on conflict (organization_id, day, provider_id) do update set
      calls = u.calls + 1,
      duration_seconds = u.duration_seconds + excluded.duration_seconds,
      cost_amount = u.cost_amount + excluded.cost_amount,
      stt_cost = u.stt_cost + excluded.stt_cost,
      llm_cost = u.llm_cost + excluded.llm_cost,
      tts_cost = u.tts_cost + excluded.tts_cost,
      platform_cost = u.platform_cost + excluded.platform_cost,
      telephony_cost = u.telephony_cost + excluded.telephony_cost;
  end if;
  return null;
end
$$;

create trigger provider_usage_rollup
after insert or update or delete on public.provider_usage
for each row execute function private.apply_usage_delta();

-- Rebuild the rollup from provider_usage (after bulk loads that bypass the trigger).
create function private.rebuild_usage_daily(p_org uuid default null) returns void
language sql security definer set search_path = ''
as $$
  delete from public.usage_daily where p_org is null or organization_id = p_org;
  insert into public.usage_daily (organization_id, day, provider_id, calls, duration_seconds,
    cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost)
  select organization_id, usage_date, provider_id, count(*), sum(duration_seconds),
    sum(cost_amount), sum(stt_cost), sum(llm_cost), sum(tts_cost), sum(platform_cost), sum(telephony_cost)
  from public.provider_usage
  where provider_id is not null and (p_org is null or organization_id = p_org)
  group by organization_id, usage_date, provider_id;
$$;
revoke execute on function private.rebuild_usage_daily(uuid) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------
-- STT / TTS / LLM catalog and per-organisation pipeline configs (seed 003)
-- ---------------------------------------------------------------------------------------
create table public.providers (
  id uuid primary key default gen_random_uuid(),
  key text unique not null,              -- 'openai-llm', 'cartesia-tts', 'pocketsphinx-stt', ...
  type text not null check (type in ('stt', 'tts', 'llm')),
  vendor text not null,                  -- credential namespace in organization_secrets ('openai')
  name text not null,
  description text,
  config_schema jsonb not null default '{}'::jsonb,
  secrets_schema jsonb not null default '{}'::jsonb,
  default_config jsonb not null default '{}'::jsonb,
  capabilities jsonb not null default '[]'::jsonb,
  metadata jsonb not null default '{}'::jsonb,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.organization_provider_configs (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  provider_id uuid not null references public.providers (id) on delete cascade,
  config jsonb not null default '{}'::jsonb,  -- overrides merged over providers.default_config
  is_enabled boolean not null default false,
  priority integer not null default 0,        -- higher first; ties by provider name
  updated_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, provider_id)
);

-- Ciphertext only: AES-256-GCM, associated data binds it to (organization, vendor).
create table public.organization_secrets (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  vendor text not null,
  key_id text not null,
  nonce bytea not null,
  ciphertext bytea not null,
  hints jsonb not null default '{}'::jsonb,  -- {"api_key": "…a1b2"}: last four characters only
  updated_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (organization_id, vendor)
);

-- ---------------------------------------------------------------------------------------
-- Webhook inbox (every accepted event, stored before it is processed) and dead letters
-- ---------------------------------------------------------------------------------------
create table public.webhook_inbox (
  id bigint generated always as identity primary key,
  provider text not null,
  event_id text not null,
  event_type text,
  organization_id uuid references public.organizations (id) on delete set null,
  provider_call_id text,
  received_at timestamptz not null default now(),
  headers jsonb not null default '{}'::jsonb,   -- credentials stripped
  body bytea not null,                          -- raw body as received
  status text not null default 'pending' check (status in ('pending', 'processed', 'failed')),
  attempts integer not null default 0,
  processed_at timestamptz,
  error text,
  unique (provider, event_id)
);
create index webhook_inbox_unprocessed_idx on public.webhook_inbox (received_at) where status <> 'processed';

create table public.webhook_dead_letters (
  id bigint generated always as identity primary key,
  provider text not null,
  received_at timestamptz not null default now(),
  reason text not null,
  headers jsonb not null default '{}'::jsonb,
  body bytea,
  remote_addr text
);

-- ---------------------------------------------------------------------------------------
-- Provider health: circuit breakers shared by every process, per-minute outcome buckets
-- ---------------------------------------------------------------------------------------
create table public.provider_circuits (
  provider_code text primary key,
  state text not null default 'closed' check (state in ('closed', 'open', 'half_open')),
  consecutive_failures integer not null default 0,
  opened_at timestamptz,
  retry_at timestamptz,
  updated_at timestamptz not null default now()
);

create table public.provider_health_minutely (
  provider_code text not null,
  kind text not null check (kind in ('handoff', 'webhook', 'api', 'vendor')),
  minute timestamptz not null,
  successes integer not null default 0,
  failures integer not null default 0,
  latency_ms_sum double precision not null default 0,
  latency_ms_max double precision not null default 0,
  primary key (provider_code, kind, minute)
);

-- ---------------------------------------------------------------------------------------
-- updated_at
-- ---------------------------------------------------------------------------------------
create function private.touch_updated_at() returns trigger
language plpgsql as $$ begin new.updated_at := now(); return new; end $$;

create trigger organizations_touch before update on public.organizations for each row execute function private.touch_updated_at();
create trigger agent_configs_touch before update on public.agent_configs for each row execute function private.touch_updated_at();
create trigger provider_configs_touch before update on public.provider_configs for each row execute function private.touch_updated_at();
create trigger call_records_touch before update on public.call_records for each row execute function private.touch_updated_at();
create trigger provider_usage_touch before update on public.provider_usage for each row execute function private.touch_updated_at();
create trigger providers_touch before update on public.providers for each row execute function private.touch_updated_at();
create trigger organization_provider_configs_touch before update on public.organization_provider_configs for each row execute function private.touch_updated_at();
create trigger organization_secrets_touch before update on public.organization_secrets for each row execute function private.touch_updated_at();

-- ---------------------------------------------------------------------------------------
-- Row-level security. Members read their organisations' rows; members write agents, configs
-- and numbers; admins and owners manage members and secrets; calls, usage, the inbox and
-- health are written by service_role (which bypasses RLS) only.
-- ---------------------------------------------------------------------------------------
alter table public.organizations enable row level security;
alter table public.memberships enable row level security;
alter table public.voice_ai_providers enable row level security;
alter table public.price_book enable row level security;
alter table public.agent_configs enable row level security;
alter table public.provider_configs enable row level security;
alter table public.phone_numbers enable row level security;
alter table public.call_records enable row level security;
alter table public.provider_usage enable row level security;
alter table public.usage_daily enable row level security;
alter table public.providers enable row level security;
alter table public.organization_provider_configs enable row level security;
alter table public.organization_secrets enable row level security;
alter table public.webhook_inbox enable row level security;
alter table public.webhook_dead_letters enable row level security;
alter table public.provider_circuits enable row level security;
alter table public.provider_health_minutely enable row level security;

-- Catalogs: public reference data.
create policy catalog_read on public.voice_ai_providers for select to anon, authenticated using (true);
create policy catalog_read on public.price_book for select to anon, authenticated using (true);
create policy catalog_read on public.providers for select to anon, authenticated using (true);
-- Platform health is not tenant data: every signed-in user may see it.
create policy health_read on public.provider_circuits for select to authenticated using (true);
create policy health_read on public.provider_health_minutely for select to authenticated using (true);

create policy org_read on public.organizations for select to authenticated
  using (id in (select private.user_org_ids()));
create policy org_update on public.organizations for update to authenticated
  using (id in (select private.user_admin_org_ids())) with check (id in (select private.user_admin_org_ids()));
create policy org_delete on public.organizations for delete to authenticated
  using (id in (select private.user_owner_org_ids()));

create policy member_read on public.memberships for select to authenticated
  using (organization_id in (select private.user_org_ids()));
create policy member_admin_insert on public.memberships for insert to authenticated
  with check (organization_id in (select private.user_admin_org_ids()));
create policy member_admin_update on public.memberships for update to authenticated
  using (organization_id in (select private.user_admin_org_ids()))
  with check (organization_id in (select private.user_admin_org_ids()));
create policy member_admin_delete on public.memberships for delete to authenticated
  using (organization_id in (select private.user_admin_org_ids()));

-- Tables members read and write.
do $$
declare t text;
begin
  foreach t in array array['agent_configs', 'provider_configs', 'phone_numbers', 'organization_provider_configs'] loop
    execute format('create policy tenant_read on public.%I for select to authenticated using (organization_id in (select private.user_org_ids()))', t);
    execute format('create policy tenant_insert on public.%I for insert to authenticated with check (organization_id in (select private.user_org_ids()))', t);
    execute format('create policy tenant_update on public.%I for update to authenticated using (organization_id in (select private.user_org_ids())) with check (organization_id in (select private.user_org_ids()))', t);
    execute format('create policy tenant_delete on public.%I for delete to authenticated using (organization_id in (select private.user_org_ids()))', t);
  end loop;
  -- Tables members only read (written by trusted ingestion).
  foreach t in array array['call_records', 'provider_usage', 'usage_daily'] loop
    execute format('create policy tenant_read on public.%I for select to authenticated using (organization_id in (select private.user_org_ids()))', t);
  end loop;
end
$$;

-- Secrets: admins and owners only, and only ever ciphertext.
create policy secrets_admin_read on public.organization_secrets for select to authenticated
  using (organization_id in (select private.user_admin_org_ids()));
create policy secrets_admin_insert on public.organization_secrets for insert to authenticated
  with check (organization_id in (select private.user_admin_org_ids()));
create policy secrets_admin_update on public.organization_secrets for update to authenticated
  using (organization_id in (select private.user_admin_org_ids()))
  with check (organization_id in (select private.user_admin_org_ids()));
create policy secrets_admin_delete on public.organization_secrets for delete to authenticated
  using (organization_id in (select private.user_admin_org_ids()));

-- The inbox: admins may inspect their organisation's events; dead letters are operator-only.
create policy inbox_admin_read on public.webhook_inbox for select to authenticated
  using (organization_id in (select private.user_admin_org_ids()));

-- ---------------------------------------------------------------------------------------
-- Seed: the four platforms at public list prices (late 2026; see docs/prices.md)
-- ---------------------------------------------------------------------------------------
insert into public.voice_ai_providers
  (code, name, description, supports_custom_voices, supports_preset_voices, cost_per_minute,
   prices_effective_from, setup_complexity, customization, capabilities, setup_instructions)
values
  ('retell', 'Retell AI', 'Managed AI agent with built-in LLM and TTS', false, true, 0.0910, '2026-11-01', 'low', 'medium',
   '{"preset_voices": true, "custom_voices": false, "function_calling": true, "recording": true, "post_call_analysis": true, "webrtc": true, "sip": true, "enterprise": false}',
   'Create an API key in the Retell dashboard and paste it in the Retell settings.'),
  ('livekit', 'LiveKit', 'Open-source real-time platform running our own agent worker', true, true, 0.0450, '2026-11-01', 'high', 'very_high',
   '{"preset_voices": true, "custom_voices": true, "function_calling": true, "recording": true, "post_call_analysis": false, "webrtc": true, "sip": true, "enterprise": false}',
   'Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET and start the worker (python -m agent_worker start).'),
  ('vapi', 'Vapi', 'Voice AI platform with enterprise features', true, true, 0.0960, '2026-11-01', 'low', 'medium',
   '{"preset_voices": true, "custom_voices": true, "function_calling": true, "recording": true, "post_call_analysis": true, "webrtc": true, "sip": true, "enterprise": true}',
   'Create a private API key in the Vapi dashboard and a BYO SIP trunk credential for inbound calls.'),
  ('signalwire', 'SignalWire AI Agent', 'SignalWire native AI agent', true, true, 0.1630, '2026-11-01', 'medium', 'high',
   '{"preset_voices": true, "custom_voices": true, "function_calling": true, "recording": true, "post_call_analysis": true, "webrtc": true, "sip": true, "enterprise": false}',
   'Enter the SignalWire project id, API token, space URL and signing key.');

insert into public.price_book (subject, component, unit, usd_per_unit, effective_from, source) values
  -- Retell: voice infra $0.055 + TTS ≈ $0.015 + LLM $0.003–0.08 (gpt-4.1-mini class ≈ $0.006) + telephony $0.015
  ('retell', 'platform', 'minute', 0.055, '2026-11-01', 'retellai.com/pricing'),
  ('retell', 'tts', 'minute', 0.015, '2026-11-01', 'retellai.com/pricing'),
  ('retell', 'llm', 'minute', 0.006, '2026-11-01', 'retellai.com/pricing'),
  ('retell', 'telephony', 'minute', 0.015, '2026-11-01', 'retellai.com/pricing'),
  -- Vapi: $0.05 platform fee; STT, LLM, TTS and transport at their vendors' prices
  ('vapi', 'platform', 'minute', 0.05, '2026-11-01', 'vapi.ai/pricing'),
  ('vapi', 'stt', 'minute', 0.01, '2026-11-01', 'vapi.ai/pricing (Deepgram)'),
  ('vapi', 'llm', 'minute', 0.006, '2026-11-01', 'vapi.ai/pricing (gpt-4.1-mini)'),
  ('vapi', 'tts', 'minute', 0.022, '2026-11-01', 'vapi.ai/pricing (ElevenLabs)'),
  ('vapi', 'telephony', 'minute', 0.008, '2026-11-01', 'vapi.ai/pricing (BYO SIP)'),
  -- SignalWire AI: $0.16 incl. STT, LLM, standard TTS; SIP transport $0.003
  ('signalwire', 'platform', 'minute', 0.16, '2026-11-01', 'signalwire.com/pricing/ai-agent'),
  ('signalwire', 'telephony', 'minute', 0.003, '2026-11-01', 'signalwire.com/pricing (SIP)'),
  -- LiveKit: $0.01 per agent-session minute + SIP ≈ $0.003; STT/LLM/TTS from the catalog vendors
  ('livekit', 'platform', 'minute', 0.01, '2026-11-01', 'livekit.io/pricing'),
  ('livekit', 'telephony', 'minute', 0.003, '2026-11-01', 'livekit.io/pricing (SIP)');
