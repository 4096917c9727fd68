-- The do-not-call list: numbers an organisation must never dial (issue #14, point 4).
--
-- Invariants:
--   * one row per organisation and number (E.164, the same rule as phone_numbers);
--   * members read their organisation's list and add or remove numbers (as they place calls);
--     nobody sees or touches another organisation's list (RLS);
--   * `anon` has no access at all; `added_by` is the caller, recorded by the policy.

create table public.do_not_call_numbers (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  e164 text not null check (e164 ~ '^\+[1-9][0-9]{6,14}$'),
  reason text check (reason is null or length(reason) <= 500),
  added_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  unique (organization_id, e164),
  unique (organization_id, id)
);

alter table public.do_not_call_numbers enable row level security;

revoke all on public.do_not_call_numbers from public, anon, authenticated;
grant select, delete on public.do_not_call_numbers to authenticated;
grant insert (organization_id, e164, reason, added_by) on public.do_not_call_numbers to authenticated;
grant all on public.do_not_call_numbers to service_role;

select private.create_tenant_policies('public.do_not_call_numbers', array['select', 'insert', 'delete'],
                                      'added_by = auth.uid()');
