-- How long the agent took to answer, per call (issue #15, point 4): p50/p90 over the call's turns
-- of the end-to-end latency (end of the caller's speech → the agent's first audio) and of its parts
-- (stt: the final transcript's delay; eou: the end-of-turn decision; llm: time to first token;
-- tts: time to first audio; overhead: what remains, the orchestration's own time), in milliseconds.
-- The LiveKit worker measures every part; a hosted platform fills what its webhook reports and
-- leaves the rest NULL (unknown, never 0).
--
-- The dashboard reads two rollups per organisation, day (UTC, of the call's start) and platform,
-- kept by a trigger on call_records, so their cost grows with days × platforms, not with calls:
-- `latency_daily`, a histogram of the calls' e2e p50 and p90 over log-spaced buckets (5 % wide:
-- bucket b holds (1.05^(b-1), 1.05^b] ms; switchboard.analytics reads medians back), and
-- `latency_parts_daily`, the count and sum of the calls' p50 of each part (their average). Parts
-- are averaged rather than histogrammed: a histogram per part made the 90-day read too slow.

alter table public.call_records
  add column latency_turns integer check (latency_turns >= 0),
  add column latency_e2e_p50_ms real, add column latency_e2e_p90_ms real,
  add column latency_stt_p50_ms real, add column latency_stt_p90_ms real,
  add column latency_eou_p50_ms real, add column latency_eou_p90_ms real,
  add column latency_llm_p50_ms real, add column latency_llm_p90_ms real,
  add column latency_tts_p50_ms real, add column latency_tts_p90_ms real,
  add column latency_overhead_p50_ms real, add column latency_overhead_p90_ms real;

create table public.latency_daily (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  day date not null,
  provider_id uuid not null references public.voice_ai_providers (id),
  measure text not null check (measure in ('e2e_p50', 'e2e_p90')),
  bucket smallint not null,
  calls integer not null default 0,
  primary key (organization_id, day, provider_id, measure, bucket)
);

create table public.latency_parts_daily (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  day date not null,
  provider_id uuid not null references public.voice_ai_providers (id),
  part text not null check (part in ('stt', 'eou', 'llm', 'tts', 'overhead')),
  calls integer not null default 0,
  sum_ms double precision not null default 0,
  primary key (organization_id, day, provider_id, part)
);

alter table public.latency_daily enable row level security;
alter table public.latency_parts_daily enable row level security;
-- members read them; only the trigger writes
select private.create_tenant_policies('public.latency_daily', array['select']);
select private.create_tenant_policies('public.latency_parts_daily', array['select']);

-- The bucket of a latency: 0 for ≤ 1 ms, then 5 % steps.
create function private.latency_bucket(ms real) returns smallint
language sql immutable set search_path = ''
as $$ select case when ms <= 1 then 0 else least(ceil(ln(ms) / ln(1.05)), 32767)::smallint end $$;

-- What one call contributes: a bucket per e2e measure it has, and each part's p50 it has.
create function private.latency_measures(c public.call_records) returns table (measure text, bucket smallint)
language sql immutable set search_path = ''
as $$
  select v.measure, private.latency_bucket(v.ms)
  from (values ('e2e_p50', c.latency_e2e_p50_ms), ('e2e_p90', c.latency_e2e_p90_ms)) v (measure, ms)
  where v.ms is not null and c.provider_id is not null and c.started_at is not null
$$;

create function private.latency_parts(c public.call_records) returns table (part text, ms real)
language sql immutable set search_path = ''
as $$
  select v.part, v.ms
  from (values ('stt', c.latency_stt_p50_ms), ('eou', c.latency_eou_p50_ms), ('llm', c.latency_llm_p50_ms),
               ('tts', c.latency_tts_p50_ms), ('overhead', c.latency_overhead_p50_ms)) v (part, ms)
  where v.ms is not null and c.provider_id is not null and c.started_at is not null
$$;

create function private.latency_bump(c public.call_records, sign integer) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if sign > 0 then
    insert into public.latency_daily as l (organization_id, day, provider_id, measure, bucket, calls)
    select c.organization_id, (c.started_at at time zone 'utc')::date, c.provider_id, m.measure, m.bucket, 1
    from private.latency_measures(c) m
    on conflict (organization_id, day, provider_id, measure, bucket) do update set calls = l.calls + 1;
    insert into public.latency_parts_daily as l (organization_id, day, provider_id, part, calls, sum_ms)
    select c.organization_id, (c.started_at at time zone 'utc')::date, c.provider_id, m.part, 1, m.ms
    from private.latency_parts(c) m
    on conflict (organization_id, day, provider_id, part) do update set calls = l.calls + 1, sum_ms = l.sum_ms + excluded.sum_ms;
  else
    update public.latency_daily l set calls = l.calls - 1
    from private.latency_measures(c) m
    where l.organization_id = c.organization_id and l.day = (c.started_at at time zone 'utc')::date
      and l.provider_id = c.provider_id and l.measure = m.measure and l.bucket = m.bucket
      -- an organisation being deleted takes its rollup with it (as experiment_daily's)
      and exists (select 1 from public.organizations o where o.id = c.organization_id);
    update public.latency_parts_daily l set calls = l.calls - 1, sum_ms = l.sum_ms - m.ms
    from private.latency_parts(c) m
    where l.organization_id = c.organization_id and l.day = (c.started_at at time zone 'utc')::date
      and l.provider_id = c.provider_id and l.part = m.part
      and exists (select 1 from public.organizations o where o.id = c.organization_id);
  end if;
end
$$;

create function private.call_records_latency_rollup() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and (old.organization_id, old.provider_id, old.started_at, old.latency_e2e_p50_ms,
      old.latency_e2e_p90_ms, old.latency_stt_p50_ms, old.latency_eou_p50_ms, old.latency_llm_p50_ms,
      old.latency_tts_p50_ms, old.latency_overhead_p50_ms)
      is not distinct from (new.organization_id, new.provider_id, new.started_at, new.latency_e2e_p50_ms,
      new.latency_e2e_p90_ms, new.latency_stt_p50_ms, new.latency_eou_p50_ms, new.latency_llm_p50_ms,
      new.latency_tts_p50_ms, new.latency_overhead_p50_ms) then
    return null;  -- most updates (status, transcript, analysis) leave the histogram alone
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    perform private.latency_bump(old, -1);
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    perform private.latency_bump(new, 1);
  end if;
  return case when tg_op = 'DELETE' then old else null end;
end
$$;

create trigger call_records_latency_rollup
after insert or update on public.call_records
for each row execute function private.call_records_latency_rollup();

create trigger call_records_latency_rollup_delete
before delete on public.call_records
for each row execute function private.call_records_latency_rollup();

-- Rebuild both from the calls (after bulk loads that bypass the trigger).
create function private.rebuild_latency_daily(p_org uuid default null) returns void
language sql security definer set search_path = ''
as $$
  delete from public.latency_daily where p_org is null or organization_id = p_org;
  delete from public.latency_parts_daily where p_org is null or organization_id = p_org;
  insert into public.latency_daily (organization_id, day, provider_id, measure, bucket, calls)
  select c.organization_id, (c.started_at at time zone 'utc')::date, c.provider_id, m.measure, m.bucket, count(*)
  from public.call_records c cross join lateral private.latency_measures(c) m
  where (p_org is null or c.organization_id = p_org) and (c.latency_e2e_p50_ms is not null or c.latency_e2e_p90_ms is not null)
  group by 1, 2, 3, 4, 5;
  insert into public.latency_parts_daily (organization_id, day, provider_id, part, calls, sum_ms)
  select c.organization_id, (c.started_at at time zone 'utc')::date, c.provider_id, m.part, count(*), sum(m.ms)
  from public.call_records c cross join lateral private.latency_parts(c) m
  where (p_org is null or c.organization_id = p_org)
  group by 1, 2, 3, 4;
$$;
revoke execute on function private.rebuild_latency_daily(uuid) from public, anon, authenticated;
revoke execute on function private.latency_bump(public.call_records, integer) from public, anon, authenticated;
revoke execute on function private.call_records_latency_rollup() from public, anon, authenticated;
revoke execute on function private.latency_bucket(real) from public, anon, authenticated;
revoke execute on function private.latency_measures(public.call_records) from public, anon, authenticated;
revoke execute on function private.latency_parts(public.call_records) from public, anon, authenticated;
