-- Circuits per cause. A platform's shared circuit (provider_circuits) opens only on failures of
-- the platform itself (5xx, timeouts, connection errors) seen from more than one organisation —
-- `failing_orgs` holds the distinct organisations of the current run of failures (the nil uuid
-- stands for a failure seen by no tenant in particular, e.g. the server's own keys). A failure
-- that belongs to one tenant (401/403/other 4xx: their key, their agent) opens only that
-- organisation's own circuit for the platform (provider_org_circuits): its calls fail over to
-- its next platform, every other organisation keeps routing there. Written by service_role (the
-- router); a row exists only while the organisation's circuit has failures.

alter table public.provider_circuits add column failing_orgs uuid[] not null default '{}';

create table public.provider_org_circuits (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  provider_code text not null,
  state text not null default 'closed' check (state in ('closed', 'open', 'half_open')),
  consecutive_failures integer not null default 0,
  opened_at timestamptz,
  retry_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (organization_id, provider_code)
);

alter table public.provider_org_circuits enable row level security;
create policy tenant_read on public.provider_org_circuits for select to authenticated
  using (organization_id in (select private.user_org_ids()));
