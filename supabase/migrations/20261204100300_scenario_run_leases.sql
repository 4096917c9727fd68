-- Scenario runs that outlive nothing but the database (issue #16, point 3: "concurrently within a
-- per-organisation limit"; a run whose process died is shown and can be resumed).
--
-- Invariants:
--   * `scenario_concurrency` is now counted per ORGANISATION, across its runs and across
--     processes: a (scenario, platform) pair holds a row of `scenario_slots` while its
--     conversation is open; a pair may claim one only while fewer than the organisation's limit
--     are held, claims serialised by a transaction-level advisory lock on the organisation
--     (`switchboard.scenarios.leases`); a waiting pair's row is a ticket (held = false), and
--     tickets are granted oldest first;
--   * a run is executed by one runner at a time (`runner_token`, set when a runner takes it
--     over), which beats `heartbeat_at` every few seconds; a slot counts only while its run is
--     running, held by the same runner and beating — a dead process's slots stop counting by
--     themselves;
--   * a run whose heartbeat went stale is 'interrupted' (shown so on read, stored so by the
--     server's sweep); resuming it keeps the stored results and runs the missing pairs.

alter table public.scenario_runs
  add column heartbeat_at timestamptz not null default now(),
  add column runner_token uuid,
  drop constraint scenario_runs_status_check,
  add constraint scenario_runs_status_check check (status in ('running', 'passed', 'failed', 'error', 'interrupted'));

create index scenario_runs_running_idx on public.scenario_runs (heartbeat_at) where status = 'running';

comment on column public.organizations.scenario_concurrency is
  'conversations the organisation''s scenario runs hold at once, all runs and processes together';

create table public.scenario_slots (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  run_id uuid not null,
  runner_token uuid not null,
  held boolean not null default true,  -- false: a ticket, queued for a slot (granted oldest first)
  claimed_at timestamptz not null default now(),
  foreign key (organization_id, run_id) references public.scenario_runs (organization_id, id) on delete cascade
);
create index scenario_slots_org_idx on public.scenario_slots (organization_id);
create index scenario_slots_run_idx on public.scenario_slots (run_id);

alter table public.scenario_slots enable row level security;
revoke all on public.scenario_slots from public, anon, authenticated;
grant select, insert, update, delete on public.scenario_slots to authenticated;
grant all on public.scenario_slots to service_role;

select private.create_tenant_policies('public.scenario_slots', array['select', 'insert', 'update', 'delete']);
