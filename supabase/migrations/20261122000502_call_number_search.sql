-- Finding calls by number at any size (the calls page's number filter, switchboard.calls):
-- a full E.164 number matches from/to exactly (btree), a run of digits matches anywhere in them
-- (trigram GIN, pg_trgm — in Supabase's `extensions` schema). Without these, a number that
-- matches nothing walks every call of the organisation (17 s at 1,000,000 calls).
create index if not exists call_records_org_from_number_idx on public.call_records (organization_id, from_number);
create index if not exists call_records_org_to_number_idx on public.call_records (organization_id, to_number);

do $$
begin
  -- Every Postgres we target ships pg_trgm (Supabase, Debian's server package); where one does
  -- not, digit search stays correct, only slower.
  if exists (select 1 from pg_available_extensions where name = 'pg_trgm') then
    create schema if not exists extensions;
    create extension if not exists pg_trgm with schema extensions;
    create index if not exists call_records_from_number_trgm_idx on public.call_records
      using gin (from_number extensions.gin_trgm_ops);
    create index if not exists call_records_to_number_trgm_idx on public.call_records
      using gin (to_number extensions.gin_trgm_ops);
  end if;
end
$$;

-- Under row-level security Postgres evaluates a policy before any operator that is not
-- leakproof, and LIKE is not: the trigram index cannot be used by the caller's own query. This
-- function runs the digit search itself (at most p_cap ids), for members of the organisation
-- only (or the service role), so the caller's query can take the ids.
create function public.calls_with_number_digits(p_org uuid, p_digits text, p_cap integer)
returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select c.id from public.call_records c
  where c.organization_id = p_org
    and (p_org in (select private.user_org_ids()) or auth.role() = 'service_role')
    and p_digits ~ '^[0-9]{3,15}$'
    and (c.from_number like '%' || p_digits || '%' or c.to_number like '%' || p_digits || '%')
  limit p_cap
$$;
revoke execute on function public.calls_with_number_digits(uuid, text, integer) from public, anon;
grant execute on function public.calls_with_number_digits(uuid, text, integer) to authenticated, service_role;
