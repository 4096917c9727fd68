-- What a vendor says is left of an organisation's quota on its own key (issue #15 point 3):
-- ElevenLabs' subscription characters and their reset, Deepgram's project balance. Written by
-- the worker (service role) when it reads them; members read their organisation's rows (the
-- health page). One row per organisation and vendor (the credential namespace of
-- organization_secrets), replaced at every read.
create table public.vendor_quotas (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  vendor text not null check (vendor ~ '^[a-z0-9-]{2,40}$'),
  remaining numeric(20, 6) not null,
  quota_limit numeric(20, 6),
  unit text not null check (unit in ('characters', 'usd', 'seconds', 'requests', 'tokens')),
  resets_at timestamptz,
  checked_at timestamptz not null default now(),
  primary key (organization_id, vendor)
);

alter table public.vendor_quotas enable row level security;
revoke all on public.vendor_quotas from public, anon, authenticated;
grant select on public.vendor_quotas to authenticated;
grant all on public.vendor_quotas to service_role;

select private.create_tenant_policies('public.vendor_quotas', array['select']);
