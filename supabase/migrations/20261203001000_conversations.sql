-- Conversations with an agent by text (issue #14, point 1), on any of the four platforms.
--
-- Invariants:
--   * one `conversations` row per conversation, its turns in `conversation_turns` (seq 0 is the
--     agent's greeting, when it speaks first); both are tenant tables: organization_id not null,
--     RLS for the organisation's members, composite references inside the organisation;
--   * the calls page shows a conversation as a `call_records` row with direction 'chat' (so
--     the list, search, filters and the call's page work unchanged). Such a row is kept out of
--     every dashboard by construction: it never has an experiment arm (the A/B rollups skip
--     rows without one), and it never has a `provider_usage` row (spend and the daily rollups
--     are built from provider_usage only) — both checked here, not by convention;
--   * a conversation's cost is what the platform reported for it, or NULL (unpriced), never 0
--     for "unknown"; it lives on the conversation and its turns, not in provider_usage;
--   * who started it is recorded (`started_by` = the signed-in user, checked on insert).

alter table public.call_records drop constraint call_records_direction_check;
alter table public.call_records add constraint call_records_direction_check
  check (direction in ('inbound', 'outbound', 'web', 'chat'));
alter table public.call_records add constraint call_records_chat_has_no_arm
  check (direction <> 'chat' or experiment_arm is null);

create function private.refuse_chat_usage() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if exists (select 1 from public.call_records c where c.id = new.call_id and c.direction = 'chat') then
    raise exception 'a text conversation has no provider_usage (it is not a phone call)'
      using errcode = 'check_violation';
  end if;
  return new;
end
$$;
revoke execute on function private.refuse_chat_usage() from public, anon, authenticated;

create trigger provider_usage_not_for_chats
before insert or update of call_id on public.provider_usage
for each row execute function private.refuse_chat_usage();

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  agent_config_id uuid not null,
  provider_id uuid not null references public.voice_ai_providers (id),
  call_record_id uuid,
  platform_conversation_id text,          -- the platform's chat / conversation id
  -- What the platform's next turn needs (Vapi's previous chat id, Retell's chat agent, the
  -- worker's session): ids only, never a key.
  state jsonb not null default '{}'::jsonb,
  status text not null default 'active' check (status in ('active', 'ended', 'error')),
  started_by uuid references auth.users (id) on delete set null,
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  cost_amount numeric(12, 6) check (cost_amount >= 0),   -- as the platform reported it; NULL = unpriced
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  foreign key (organization_id, agent_config_id) references public.agent_configs (organization_id, id) on delete cascade,
  foreign key (organization_id, call_record_id) references public.call_records (organization_id, id)
    on delete set null (call_record_id)
);
create index conversations_org_agent_idx on public.conversations (organization_id, agent_config_id, started_at desc);
create index conversations_call_record_idx on public.conversations (call_record_id) where call_record_id is not null;

create table public.conversation_turns (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  conversation_id uuid not null,
  seq integer not null check (seq >= 0),
  user_text text,                          -- NULL for the greeting
  reply_text text not null default '',
  tool_calls jsonb not null default '[]'::jsonb,   -- [{name, arguments, result, is_error}]
  latency_ms numeric(10, 1) not null check (latency_ms >= 0),        -- ours: the whole turn, as the core timed it
  platform_latency_ms numeric(10, 1) check (platform_latency_ms >= 0),  -- what the platform reported, if it did
  vendor_latency_ms numeric(10, 1) check (vendor_latency_ms >= 0),      -- of which the model's and tools' (our worker says)
  cost_amount numeric(12, 6) check (cost_amount >= 0),               -- reported by the platform; NULL = unpriced
  created_at timestamptz not null default now(),
  unique (conversation_id, seq),
  foreign key (organization_id, conversation_id) references public.conversations (organization_id, id) on delete cascade
);
create index conversation_turns_org_idx on public.conversation_turns (organization_id);

create trigger conversations_updated_at before update on public.conversations
for each row execute function private.touch_updated_at();

alter table public.conversations enable row level security;
alter table public.conversation_turns enable row level security;

revoke all on public.conversations, public.conversation_turns from public, anon, authenticated;
grant select, insert, update on public.conversations, public.conversation_turns to authenticated;
grant all on public.conversations, public.conversation_turns to service_role;

-- The standard policies of a tenant table, for this and later migrations: the members of a
-- row's organisation may do each of `p_commands` ('select', 'insert', 'update', 'delete') to it
-- (policies tenant_read, tenant_insert, tenant_update, tenant_delete, as the foundation's
-- tables have them); `p_insert_check` adds a condition on what an insert writes. Run by the
-- migrations' role only.
create function private.create_tenant_policies(p_table regclass, p_commands text[], p_insert_check text default null)
returns void language plpgsql set search_path = ''
as $$
declare
  member constant text := 'organization_id in (select private.user_org_ids())';
  command text;
begin
  foreach command in array p_commands loop
    case command
      when 'select' then
        execute format('create policy tenant_read on %s for select to authenticated using (%s)', p_table, member);
      when 'insert' then
        execute format('create policy tenant_insert on %s for insert to authenticated with check (%s)', p_table,
                       member || coalesce(' and ' || p_insert_check, ''));
      when 'update' then
        execute format('create policy tenant_update on %s for update to authenticated using (%s) with check (%s)',
                       p_table, member, member);
      when 'delete' then
        execute format('create policy tenant_delete on %s for delete to authenticated using (%s)', p_table, member);
    end case;
  end loop;
end
$$;
revoke execute on function private.create_tenant_policies(regclass, text[], text) from public, anon, authenticated;

-- Members read and write their organisations' conversations and turns (as the tables members
-- write in the foundation); a conversation is recorded as started by the one who inserts it.
select private.create_tenant_policies('public.conversations', array['select', 'insert', 'update'], 'started_by = auth.uid()');
select private.create_tenant_policies('public.conversation_turns', array['select', 'insert', 'update']);

-- A conversation's entry in the calls list is written as the user who holds the conversation
-- (phone calls stay written by trusted ingestion only): rows of direction 'chat' alone, in the
-- user's organisations, and an update cannot turn one into a phone call.
create policy chat_insert on public.call_records for insert to authenticated
  with check (direction = 'chat' and organization_id in (select private.user_org_ids()));
create policy chat_update on public.call_records for update to authenticated
  using (direction = 'chat' and organization_id in (select private.user_org_ids()))
  with check (direction = 'chat' and organization_id in (select private.user_org_ids()));
