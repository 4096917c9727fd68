-- Agent versions (issue #16, point 1): every save of an agent's spec is a new, numbered,
-- immutable draft; publishing a version makes it live.
--
-- Invariants:
--   * `agent_configs`' spec columns are the LIVE spec: every part that serves calls (the router,
--     the worker, the sync, conversations) keeps reading them, so publishing a version — copying
--     its spec there and pointing `live_version_id` at it — is what fires the sync webhook;
--   * a version never changes once written: no UPDATE grant to anyone but the owner, and a
--     trigger refusing any UPDATE (service_role included); versions go only with their agent;
--   * numbers are 1, 2, … per agent (unique); number 1 is written, live, with the agent itself;
--   * each call and conversation names the version that served it (`agent_version_id`): the
--     router sets it from the same read as the spec; when a row arrives without it (a platform's
--     webhook first), the agent's live version at that moment is taken;
--   * tenant table: organization_id not null, RLS for the organisation's members, composite
--     references inside the organisation; the author is the signed-in user (checked on insert).

create table public.agent_versions (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  agent_config_id uuid not null,
  number integer not null check (number >= 1),
  spec jsonb not null,                 -- the AGENT_COLUMNS of switchboard.spec, as saved
  note text check (char_length(note) <= 500),
  created_by uuid,                     -- the author (kept when the user later leaves)
  created_at timestamptz not null default now(),
  unique (organization_id, id),
  unique (agent_config_id, number),
  foreign key (organization_id, agent_config_id) references public.agent_configs (organization_id, id) on delete cascade
);
create index agent_versions_org_idx on public.agent_versions (organization_id);

create function private.refuse_version_update() returns trigger
language plpgsql set search_path = ''
as $$
begin
  raise exception 'agent versions are immutable; save a new version instead' using errcode = 'check_violation';
end
$$;
revoke execute on function private.refuse_version_update() from public, anon, authenticated;
-- AFTER, and named after the "RI_ConstraintTrigger_…" triggers: a cross-organisation move is
-- refused as the foreign-key violation it is first; any other update is refused here.
create trigger agent_versions_immutable after update on public.agent_versions
for each row execute function private.refuse_version_update();

alter table public.agent_configs
  add column live_version_id uuid,
  add column live_published_at timestamptz,
  add column live_published_by uuid,
  add constraint agent_configs_live_version_fk foreign key (organization_id, live_version_id)
    references public.agent_versions (organization_id, id) on delete set null (live_version_id);

-- Deferred checks: deleting an agent removes its versions (cascade) and sets the calls' agent to
-- null (another foreign key) in one statement; that update must not be checked against a version
-- whose own "set null" has not fired yet. The referential action itself is never deferred.
alter table public.call_records add column agent_version_id uuid,
  add constraint call_records_agent_version_fk foreign key (organization_id, agent_version_id)
    references public.agent_versions (organization_id, id) on delete set null (agent_version_id)
    deferrable initially deferred;
alter table public.conversations add column agent_version_id uuid,
  add constraint conversations_agent_version_fk foreign key (organization_id, agent_version_id)
    references public.agent_versions (organization_id, id) on delete set null (agent_version_id)
    deferrable initially deferred;

-- The spec of an agent_configs row, as a version stores it.
create function private.agent_spec_json(a public.agent_configs) returns jsonb
language sql immutable set search_path = ''
as $$
  select jsonb_build_object('name', a.name, 'prompt', a.prompt, 'begin_message', a.begin_message, 'voice', a.voice,
                            'language', a.language, 'tools', a.tools, 'analysis', a.analysis,
                            'max_duration_seconds', a.max_duration_seconds, 'metadata', a.metadata)
$$;
revoke execute on function private.agent_spec_json(public.agent_configs) from public, anon, authenticated;

-- Publishing is pointing live_version_id at one of the agent's versions: its spec becomes the
-- live spec in the same statement, so the two can never disagree whoever writes the pointer.
create function private.publish_agent_version() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  s jsonb;
begin
  if new.live_version_id is distinct from old.live_version_id and new.live_version_id is not null then
    select v.spec into s from public.agent_versions v
    where v.id = new.live_version_id and v.agent_config_id = new.id;
    if s is null then
      raise exception 'version % is not a version of this agent', new.live_version_id using errcode = 'foreign_key_violation';
    end if;
    new.name := s->>'name';
    new.prompt := s->>'prompt';
    new.begin_message := s->>'begin_message';
    new.voice := coalesce(s->'voice', '{}'::jsonb);
    new.language := s->>'language';
    new.tools := coalesce(s->'tools', '[]'::jsonb);
    new.analysis := coalesce(s->'analysis', '{}'::jsonb);
    new.max_duration_seconds := (s->>'max_duration_seconds')::integer;
    new.metadata := coalesce(s->'metadata', '{}'::jsonb);
  end if;
  return new;
end
$$;
revoke execute on function private.publish_agent_version() from public, anon, authenticated;
create trigger agent_configs_publish before update of live_version_id on public.agent_configs
for each row execute function private.publish_agent_version();

-- A new agent's spec is its version 1, live.
create function private.first_agent_version() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  v uuid;
begin
  insert into public.agent_versions (organization_id, agent_config_id, number, spec, created_by)
  values (new.organization_id, new.id, 1, private.agent_spec_json(new), auth.uid())
  returning id into v;
  update public.agent_configs set live_version_id = v, live_published_at = now(), live_published_by = auth.uid()
  where id = new.id;
  return null;
end
$$;
revoke execute on function private.first_agent_version() from public, anon, authenticated;
create trigger agent_configs_first_version after insert on public.agent_configs
for each row execute function private.first_agent_version();

insert into public.agent_versions (organization_id, agent_config_id, number, spec, created_at)
select a.organization_id, a.id, 1, private.agent_spec_json(a), a.created_at from public.agent_configs a;
update public.agent_configs a set live_version_id = v.id, live_published_at = v.created_at
from public.agent_versions v where v.agent_config_id = a.id and v.number = 1;

-- A call or conversation arriving without its version is served by the agent's live one.
create function private.default_agent_version() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.agent_version_id is null and new.agent_config_id is not null then
    select a.live_version_id into new.agent_version_id from public.agent_configs a
    where a.id = new.agent_config_id and a.organization_id = new.organization_id;
  end if;
  return new;
end
$$;
revoke execute on function private.default_agent_version() from public, anon, authenticated;
create trigger call_records_agent_version before insert or update of agent_config_id on public.call_records
for each row execute function private.default_agent_version();
create trigger conversations_agent_version before insert on public.conversations
for each row execute function private.default_agent_version();

alter table public.agent_versions enable row level security;
revoke all on public.agent_versions from public, anon, authenticated;
grant select, insert on public.agent_versions to authenticated;
grant select, insert, delete on public.agent_versions to service_role;

select private.create_tenant_policies('public.agent_versions', array['select', 'insert'], 'created_by = auth.uid()');
