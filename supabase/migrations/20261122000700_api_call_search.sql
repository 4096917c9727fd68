-- The management API's call search by number. What people type is the end of a number (the
-- last four digits, a national number without its country code) or a whole +E.164 number:
-- both are prefixes of the reversed number, which an index answers by range, whatever the size
-- of the organisation's history. The reversed numbers are stored (generated) columns rather
-- than index expressions because reverse() is not leakproof: under RLS, Postgres may not use
-- it in an index condition, while plain text comparisons are leakproof. Collation "C" keeps
-- the ranges byte-wise.
alter table public.call_records
  add column if not exists from_number_reversed text collate "C" generated always as (reverse(from_number)) stored,
  add column if not exists to_number_reversed text collate "C" generated always as (reverse(to_number)) stored;

create index if not exists call_records_org_from_number_reversed_idx
  on public.call_records (organization_id, from_number_reversed);
create index if not exists call_records_org_to_number_reversed_idx
  on public.call_records (organization_id, to_number_reversed);

-- The call list's other filters, each walked newest first: a value with few or no calls (an
-- experiment arm that never ran, status 'ongoing' over a year of history, direction 'web')
-- would otherwise walk the organisation's whole history to fill a page.
create index if not exists call_records_org_status_started_idx
  on public.call_records (organization_id, status, started_at desc, id);
create index if not exists call_records_org_direction_started_idx
  on public.call_records (organization_id, direction, started_at desc, id);
create index if not exists call_records_org_arm_started_idx
  on public.call_records (organization_id, experiment_arm, started_at desc, id) where experiment_arm is not null;
