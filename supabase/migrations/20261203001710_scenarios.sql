-- Scenarios, runs and results (issue #16, points 2 and 3).
--
-- Invariants:
--   * a scenario belongs to one agent; its definition is `switchboard.scenarios.model.Scenario`
--     as JSON (validated by the core before it is written); names are unique per agent, so a YAML
--     import replaces scenarios by name;
--   * a run tests one version of the agent (the live one when none is named) on one or more
--     platforms; it records each (scenario, platform) pair's result: the conversation held, every
--     check's outcome and why it failed, the latency of each turn, and the cost where the platform
--     reported it (NULL = not reported, never 0 for unknown);
--   * how many conversations a run holds at once is the organisation's
--     `scenario_concurrency` (1..20), counted per run;
--   * tenant tables: organization_id not null, RLS for the organisation's members, composite
--     references inside the organisation.

--   * the publish gate: an organisation with `require_scenarios_to_publish` publishes a version
--     only when its latest finished run on each of the agent's platforms passed (checked by the
--     core's publish, which lists the failed checks when it refuses).

alter table public.organizations
  add column scenario_concurrency integer not null default 4 check (scenario_concurrency between 1 and 20),
  add column require_scenarios_to_publish boolean not null default false;

create table public.scenarios (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  agent_config_id uuid not null,
  name text not null check (char_length(name) between 1 and 200),
  position integer not null default 0,
  definition jsonb not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, id),
  unique (agent_config_id, name),
  foreign key (organization_id, agent_config_id) references public.agent_configs (organization_id, id) on delete cascade
);
create index scenarios_org_idx on public.scenarios (organization_id);
create trigger scenarios_touch before update on public.scenarios for each row execute function private.touch_updated_at();

create table public.scenario_runs (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  agent_config_id uuid not null,
  agent_version_id uuid not null,
  platforms text[] not null check (cardinality(platforms) >= 1),
  status text not null default 'running' check (status in ('running', 'passed', 'failed', 'error')),
  total integer not null default 0 check (total >= 0),
  done integer not null default 0 check (done >= 0),
  passed integer not null default 0 check (passed >= 0),
  error text,
  started_by uuid,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (organization_id, id),
  foreign key (organization_id, agent_config_id) references public.agent_configs (organization_id, id) on delete cascade,
  foreign key (organization_id, agent_version_id) references public.agent_versions (organization_id, id) on delete cascade
);
create index scenario_runs_agent_idx on public.scenario_runs (organization_id, agent_config_id, started_at desc);

create table public.scenario_results (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  run_id uuid not null,
  scenario_id uuid,
  scenario_name text not null,
  platform text not null,
  conversation_id uuid,
  outcome text not null check (outcome in ('passed', 'failed', 'error', 'not_run')),
  checks jsonb not null default '[]'::jsonb,        -- [{check, kind, turn, outcome, message}]
  turn_latency_ms numeric(10, 1)[] not null default '{}',
  cost_amount numeric(12, 6) check (cost_amount >= 0),   -- as the platform reported it; NULL = unpriced
  error text,                                        -- in words (ours), when the conversation could not be held
  created_at timestamptz not null default now(),
  unique (run_id, scenario_name, platform),
  foreign key (organization_id, run_id) references public.scenario_runs (organization_id, id) on delete cascade,
  foreign key (organization_id, scenario_id) references public.scenarios (organization_id, id)
    on delete set null (scenario_id),
  foreign key (organization_id, conversation_id) references public.conversations (organization_id, id)
    on delete set null (conversation_id)
);
create index scenario_results_org_idx on public.scenario_results (organization_id);

alter table public.scenarios enable row level security;
alter table public.scenario_runs enable row level security;
alter table public.scenario_results enable row level security;

revoke all on public.scenarios, public.scenario_runs, public.scenario_results from public, anon, authenticated;
grant select, insert, update, delete on public.scenarios to authenticated;
grant select, insert, update on public.scenario_runs, public.scenario_results to authenticated;
grant all on public.scenarios, public.scenario_runs, public.scenario_results to service_role;

select private.create_tenant_policies('public.scenarios', array['select', 'insert', 'update', 'delete']);
select private.create_tenant_policies('public.scenario_runs', array['select', 'insert', 'update'], 'started_by = auth.uid()');
select private.create_tenant_policies('public.scenario_results', array['select', 'insert', 'update']);
