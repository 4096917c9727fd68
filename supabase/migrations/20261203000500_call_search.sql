-- The call list's free-text search (issue #13): one box that finds a call by a number, by our
-- call id or the platform's, or by words said in its transcript, fast at millions of calls.
--
-- - Transcript words: a stored tsvector (the 'simple' configuration: no stemming, no stop
--   words, so any language and any word a caller said) with a GIN index.
-- - The platform's call id: an index per organisation (the existing unique key leads with the
--   platform, which the search box does not know).
-- - Numbers: the reversed-number range indexes of 20261122000700_api_call_search.sql; our
--   call id: the primary key.
--
-- Row-level security and the GIN index. Queries run as the signed-in user, and under RLS
-- Postgres uses a user's condition as an index condition only when its operator is leakproof;
-- tsvector @@ tsquery is not (and only a superuser may mark it so, which a hosted Supabase
-- project does not allow). So `private.call_transcript_matches` answers the word search
-- through the index as a security definer, for an organisation the caller is a member of only
-- (checked inside, against auth.uid()), returning at most p_cap call ids. The list then
-- filters on those ids (primary-key lookups, which RLS checks again); when the cap is reached
-- (a word said in thousands of calls) it filters with @@ row by row instead, which for so
-- common a word finds a page within a short walk of the newest calls.
alter table public.call_records
  add column if not exists transcript_tsv tsvector
    generated always as (to_tsvector('simple'::regconfig, coalesce(transcript, ''))) stored;

-- fastupdate off: new calls go straight into the index rather than into a pending list that
-- every search would scan until the next vacuum (after a bulk load: 10+ ms even for a word in
-- no call, against 0.1 ms).
create index if not exists call_records_transcript_tsv_idx
  on public.call_records using gin (transcript_tsv) with (fastupdate = off);
create index if not exists call_records_org_provider_call_id_idx
  on public.call_records (organization_id, provider_call_id) where provider_call_id is not null;

-- plpgsql with EXECUTE: planned for the actual words each time (a SQL function's generic plan
-- does not know how rare they are and walks the table).
create or replace function private.call_transcript_matches(p_org uuid, p_query text, p_cap integer)
returns setof uuid
language plpgsql stable security definer set search_path = ''
as $$
begin
  if p_org is null or p_org not in (select private.user_org_ids()) then
    return;
  end if;
  return query execute
    'select c.id from public.call_records c
     where c.organization_id = $1 and c.transcript_tsv @@ websearch_to_tsquery(''simple''::regconfig, $2)
     limit $3'
    using p_org, p_query, least(greatest(p_cap, 0), 100000);
end
$$;

revoke all on function private.call_transcript_matches(uuid, text, integer) from public;
grant execute on function private.call_transcript_matches(uuid, text, integer) to authenticated, service_role;
