-- Usage that cannot be priced yet (no price book loaded, or a price missing for what it used) is
-- kept as *unpriced*: cost_source 'unpriced' and NULL costs, never a silent $0. The ingestion path
-- prices it once the price is known (switchboard.ingest.reprice_unpriced). Rollups count such
-- calls apart (usage_daily.unpriced_calls / unpriced_seconds), so a dashboard can say "n calls
-- not priced yet" instead of showing them as free; they contribute no cost and no priced seconds.

alter table public.provider_usage drop constraint provider_usage_cost_source_check;
alter table public.provider_usage
  alter column cost_amount drop not null, alter column cost_amount drop default,
  alter column stt_cost drop not null, alter column stt_cost drop default,
  alter column llm_cost drop not null, alter column llm_cost drop default,
  alter column tts_cost drop not null, alter column tts_cost drop default,
  alter column platform_cost drop not null, alter column platform_cost drop default,
  alter column telephony_cost drop not null, alter column telephony_cost drop default;
alter table public.provider_usage
  alter column cost_amount set default 0, alter column stt_cost set default 0, alter column llm_cost set default 0,
  alter column tts_cost set default 0, alter column platform_cost set default 0, alter column telephony_cost set default 0,
  add constraint provider_usage_cost_source_check
    check (cost_source in ('reported', 'computed', 'estimated', 'unpriced')),
  -- priced ⇔ every cost known; unpriced ⇔ none
  add constraint provider_usage_unpriced_has_no_cost check (
    case when cost_source = 'unpriced'
      then num_nulls(cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost) = 6
      else num_nulls(cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost) = 0 end);
create index provider_usage_unpriced_idx on public.provider_usage (id) where cost_source = 'unpriced';

alter table public.usage_daily
  add column unpriced_calls integer not null default 0,
  add column unpriced_seconds bigint not null default 0;

create or replace function private.apply_usage_delta() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and old.provider_id is not null then
    update public.usage_daily set
      calls = calls - 1,
      duration_seconds = duration_seconds - old.duration_seconds,
      cost_amount = cost_amount - coalesce(old.cost_amount, 0),
      stt_cost = stt_cost - coalesce(old.stt_cost, 0),
      llm_cost = llm_cost - coalesce(old.llm_cost, 0),
      tts_cost = tts_cost - coalesce(old.tts_cost, 0),
      platform_cost = platform_cost - coalesce(old.platform_cost, 0),
      telephony_cost = telephony_cost - coalesce(old.telephony_cost, 0),
      unpriced_calls = unpriced_calls - (old.cost_amount is null)::int,
      unpriced_seconds = unpriced_seconds - case when old.cost_amount is null then old.duration_seconds else 0 end
    where organization_id = old.organization_id and day = old.usage_date and provider_id = old.provider_id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.provider_id is not null then
    insert into public.usage_daily as u (organization_id, day, provider_id, calls, duration_seconds,
      cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost, unpriced_calls, unpriced_seconds)
    values (new.organization_id, new.usage_date, new.provider_id, 1, new.duration_seconds,
      coalesce(new.cost_amount, 0), coalesce(new.stt_cost, 0), coalesce(new.llm_cost, 0), coalesce(new.tts_cost, 0),
      coalesce(new.platform_cost, 0), coalesce(new.telephony_cost, 0), (new.cost_amount is null)::int,
      case when new.cost_amount is null then new.duration_seconds else 0 end)
    on conflict (organization_id, day, provider_id) do update set
      calls = u.calls + 1,
      duration_seconds = u.duration_seconds + excluded.duration_seconds,
      cost_amount = u.cost_amount + excluded.cost_amount,
      stt_cost = u.stt_cost + excluded.stt_cost,
      llm_cost = u.llm_cost + excluded.llm_cost,
      tts_cost = u.tts_cost + excluded.tts_cost,
      platform_cost = u.platform_cost + excluded.platform_cost,
      telephony_cost = u.telephony_cost + excluded.telephony_cost,
      unpriced_calls = u.unpriced_calls + excluded.unpriced_calls,
      unpriced_seconds = u.unpriced_seconds + excluded.unpriced_seconds;
  end if;
  return null;
end
$$;

create or replace function private.rebuild_usage_daily(p_org uuid default null) returns void
language sql security definer set search_path = ''
as $$
  delete from public.usage_daily where p_org is null or organization_id = p_org;
  insert into public.usage_daily (organization_id, day, provider_id, calls, duration_seconds,
    cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost, unpriced_calls, unpriced_seconds)
  select organization_id, usage_date, provider_id, count(*), sum(duration_seconds),
    coalesce(sum(cost_amount), 0), coalesce(sum(stt_cost), 0), coalesce(sum(llm_cost), 0), coalesce(sum(tts_cost), 0),
    coalesce(sum(platform_cost), 0), coalesce(sum(telephony_cost), 0),
    count(*) filter (where cost_amount is null), coalesce(sum(duration_seconds) filter (where cost_amount is null), 0)
  from public.provider_usage
  where provider_id is not null and (p_org is null or organization_id = p_org)
  group by organization_id, usage_date, provider_id;
$$;
revoke execute on function private.rebuild_usage_daily(uuid) from public, anon, authenticated;

-- The A/B rollup: an unpriced call contributes neither seconds nor cost to the cost comparison
-- until it is priced (then its usage row's update adds both).
create or replace function private.experiment_usage(c public.call_records, u public.provider_usage, sign integer) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  cpm double precision := case when u.duration_seconds > 0 then (u.cost_amount / (u.duration_seconds / 60.0))::double precision end;
begin
  if c.experiment_arm is null or c.started_at is null or u.cost_amount is null then
    return;
  end if;
  perform private.experiment_bump(
    c.organization_id, (c.started_at at time zone 'utc')::date, c.agent_config_id, c.experiment_arm, sign,
    0, 0, 0, 0, 0, 0, 0, 0,
    u.duration_seconds, u.cost_amount, (cpm is not null)::int, coalesce(cpm, 0), coalesce(cpm * cpm, 0));
end
$$;

create or replace function private.rebuild_experiment_daily(p_org uuid default null) returns void
language sql security definer set search_path = ''
as $$
  delete from public.experiment_daily where p_org is null or organization_id = p_org;
  insert into public.experiment_daily (organization_id, day, agent_config_id, arm, calls, judged, successes, rated,
    positive, dur_n, dur_sum, dur_sumsq, usage_seconds, cost_amount, cpm_n, cpm_sum, cpm_sumsq)
  select c.organization_id, (c.started_at at time zone 'utc')::date, c.agent_config_id, c.experiment_arm,
    count(*), count(c.successful), count(*) filter (where c.successful), count(c.sentiment),
    count(*) filter (where lower(c.sentiment) = 'positive'),
    count(c.duration_seconds), coalesce(sum(c.duration_seconds), 0),
    coalesce(sum(c.duration_seconds::bigint * c.duration_seconds), 0),
    coalesce(sum(u.duration_seconds) filter (where u.cost_amount is not null), 0), coalesce(sum(u.cost_amount), 0),
    count(x.cpm), coalesce(sum(x.cpm), 0), coalesce(sum(x.cpm * x.cpm), 0)
  from public.call_records c
  left join public.provider_usage u on u.call_id = c.id
  cross join lateral (select case when u.duration_seconds > 0
                                  then (u.cost_amount / (u.duration_seconds / 60.0))::double precision end as cpm) x
  where c.experiment_arm is not null and c.started_at is not null and (p_org is null or c.organization_id = p_org)
  group by 1, 2, 3, 4;
$$;
revoke execute on function private.rebuild_experiment_daily(uuid) from public, anon, authenticated;
