-- The A/B rollup also by agent version (issue #16: the dashboard compares versions as well as
-- platforms). experiment_daily's bucket gains the call's `agent_version_id`, and it now counts
-- every call that has an arm or a version (a version comparison needs no traffic split):
--   * the platform comparison reads the rows with an arm (summed over versions), the version
--     comparison the rows with a version (summed over arms): one rollup, one set of triggers;
--   * conversations (direction 'chat', scenario runs included) are never counted, as before
--     (they have no arm; now they are excluded by direction, since they name a version);
--   * the triggers move a call's own figures and its usage when its bucket (day, agent, arm,
--     version) or whether it counts changes, as they did for the arm.

alter table public.experiment_daily
  add column agent_version_id uuid,
  alter column arm drop not null,
  drop constraint experiment_daily_key,
  add constraint experiment_daily_key unique nulls not distinct (organization_id, day, arm, agent_config_id, agent_version_id);

drop function private.experiment_bump(uuid, date, uuid, text, integer, bigint, bigint, bigint, bigint, bigint, bigint,
                                      bigint, bigint, bigint, numeric, bigint, double precision, double precision);

-- Add (sign > 0) or take out (sign < 0) one bucket's deltas.
create function private.experiment_bump(
  k_org uuid, k_day date, k_agent uuid, k_arm text, k_version uuid, sign integer,
  d_calls bigint, d_judged bigint, d_successes bigint, d_rated bigint, d_positive bigint,
  d_dur_n bigint, d_dur_sum bigint, d_dur_sumsq bigint,
  d_usage_seconds bigint, d_cost numeric, d_cpm_n bigint, d_cpm_sum double precision, d_cpm_sumsq double precision
) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if sign > 0 then
    insert into public.experiment_daily as e (organization_id, day, agent_config_id, arm, agent_version_id, calls, judged,
      successes, rated, positive, dur_n, dur_sum, dur_sumsq, usage_seconds, cost_amount, cpm_n, cpm_sum, cpm_sumsq)
    values (k_org, k_day, k_agent, k_arm, k_version, d_calls, d_judged, d_successes, d_rated, d_positive, d_dur_n,
      d_dur_sum, d_dur_sumsq, d_usage_seconds, d_cost, d_cpm_n, d_cpm_sum, d_cpm_sumsq)
    on conflict on constraint experiment_daily_key do update set
      calls = e.calls + excluded.calls, judged = e.judged + excluded.judged,
      successes = e.successes + excluded.successes, rated = e.rated + excluded.rated,
      positive = e.positive + excluded.positive, dur_n = e.dur_n + excluded.dur_n,
      dur_sum = e.dur_sum + excluded.dur_sum, dur_sumsq = e.dur_sumsq + excluded.dur_sumsq,
      usage_seconds = e.usage_seconds + excluded.usage_seconds, cost_amount = e.cost_amount + excluded.cost_amount,
      cpm_n = e.cpm_n + excluded.cpm_n, cpm_sum = e.cpm_sum + excluded.cpm_sum,
      cpm_sumsq = e.cpm_sumsq + excluded.cpm_sumsq;
  else
    update public.experiment_daily set
      calls = calls - d_calls, judged = judged - d_judged, successes = successes - d_successes,
      rated = rated - d_rated, positive = positive - d_positive, dur_n = dur_n - d_dur_n,
      dur_sum = dur_sum - d_dur_sum, dur_sumsq = dur_sumsq - d_dur_sumsq,
      usage_seconds = usage_seconds - d_usage_seconds, cost_amount = cost_amount - d_cost,
      cpm_n = cpm_n - d_cpm_n, cpm_sum = cpm_sum - d_cpm_sum, cpm_sumsq = cpm_sumsq - d_cpm_sumsq
    where organization_id = k_org and day = k_day and arm is not distinct from k_arm
      and agent_config_id is not distinct from k_agent and agent_version_id is not distinct from k_version
      -- an organisation being deleted takes its rollup with it (see 20261122000501)
      and exists (select 1 from public.organizations o where o.id = k_org);
  end if;
end
$$;
revoke execute on function private.experiment_bump(uuid, date, uuid, text, uuid, integer, bigint, bigint, bigint, bigint,
  bigint, bigint, bigint, bigint, bigint, numeric, bigint, double precision, double precision)
  from public, anon, authenticated, service_role;

-- Whether a call counts: it has an arm or a version, a start, and is a call (not a conversation).
create function private.experiment_counts(c public.call_records) returns boolean
language sql immutable set search_path = ''
as $$
  select c.started_at is not null and (c.experiment_arm is not null or c.agent_version_id is not null)
         and c.direction is distinct from 'chat'
$$;
revoke execute on function private.experiment_counts(public.call_records) from public, anon, authenticated, service_role;

create or replace function private.experiment_call(c public.call_records, sign integer) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if not private.experiment_counts(c) then
    return;
  end if;
  perform private.experiment_bump(
    c.organization_id, (c.started_at at time zone 'utc')::date, c.agent_config_id, c.experiment_arm, c.agent_version_id,
    sign, 1, (c.successful is not null)::int, coalesce(c.successful, false)::int,
    (c.sentiment is not null)::int, coalesce(lower(c.sentiment) = 'positive', false)::int,
    (c.duration_seconds is not null)::int, coalesce(c.duration_seconds, 0),
    coalesce(c.duration_seconds::bigint * c.duration_seconds, 0),
    0, 0, 0, 0, 0);
end
$$;

-- An unpriced call contributes neither seconds nor cost until it is priced (20261203000200).
create or replace function private.experiment_usage(c public.call_records, u public.provider_usage, sign integer) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  cpm double precision := case when u.duration_seconds > 0 then (u.cost_amount / (u.duration_seconds / 60.0))::double precision end;
begin
  if not private.experiment_counts(c) or u.cost_amount is null then
    return;
  end if;
  perform private.experiment_bump(
    c.organization_id, (c.started_at at time zone 'utc')::date, c.agent_config_id, c.experiment_arm, c.agent_version_id,
    sign, 0, 0, 0, 0, 0, 0, 0, 0,
    u.duration_seconds, u.cost_amount, (cpm is not null)::int, coalesce(cpm, 0), coalesce(cpm * cpm, 0));
end
$$;

create or replace function private.call_records_experiment_rollup() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  u public.provider_usage;
  moved boolean := tg_op = 'DELETE';
begin
  if tg_op = 'UPDATE' then
    if (old.organization_id, old.started_at, old.agent_config_id, old.experiment_arm, old.agent_version_id, old.direction,
        old.duration_seconds, old.successful, old.sentiment)
       is not distinct from
       (new.organization_id, new.started_at, new.agent_config_id, new.experiment_arm, new.agent_version_id, new.direction,
        new.duration_seconds, new.successful, new.sentiment) then
      return new;  -- transcripts, statuses, recordings: nothing the comparison reads
    end if;
    moved := (old.organization_id, (old.started_at at time zone 'utc')::date, old.agent_config_id, old.experiment_arm,
              old.agent_version_id, old.direction)
             is distinct from
             (new.organization_id, (new.started_at at time zone 'utc')::date, new.agent_config_id, new.experiment_arm,
              new.agent_version_id, new.direction);
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    perform private.experiment_call(old, -1);
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    perform private.experiment_call(new, 1);
  end if;
  if moved then
    select * into u from public.provider_usage where call_id = old.id;
    if found then
      perform private.experiment_usage(old, u, -1);
      if tg_op = 'UPDATE' then
        perform private.experiment_usage(new, u, 1);
      end if;
    end if;
  end if;
  return coalesce(new, old);
end
$$;

create or replace function private.rebuild_experiment_daily(p_org uuid default null) returns void
language sql security definer set search_path = ''
as $$
  delete from public.experiment_daily where p_org is null or organization_id = p_org;
  insert into public.experiment_daily (organization_id, day, agent_config_id, arm, agent_version_id, calls, judged,
    successes, rated, positive, dur_n, dur_sum, dur_sumsq, usage_seconds, cost_amount, cpm_n, cpm_sum, cpm_sumsq)
  select c.organization_id, (c.started_at at time zone 'utc')::date, c.agent_config_id, c.experiment_arm,
    c.agent_version_id,
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
  where private.experiment_counts(c) and (p_org is null or c.organization_id = p_org)
  group by 1, 2, 3, 4, 5;
$$;
revoke execute on function private.rebuild_experiment_daily(uuid) from public, anon, authenticated;

-- The version comparison reads one agent's versions over a period.
create index experiment_daily_version_idx on public.experiment_daily (organization_id, agent_config_id, day)
  where agent_version_id is not null;

select private.rebuild_experiment_daily();
