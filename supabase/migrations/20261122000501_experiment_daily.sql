-- The A/B comparison's daily rollup: per organisation, day (UTC, of the call's start), agent and
-- experiment arm, the counts, sums and sums of squares the dashboard's significance tests need
-- (Welch's t-test works from means and variances, chi-square from counts). Kept by triggers on
-- call_records (the call's own measures) and provider_usage (its cost per minute), so the
-- comparison reads days × arms rows however many calls there are.
--
-- Each trigger adds or takes out only what its own row contributes; the call's trigger also
-- moves the call's cost when the call changes bucket (arm, day, agent), and takes it out when the
-- call is deleted (BEFORE DELETE: the cascade removes the usage row afterwards, when the call can
-- no longer be seen). Writers of a call's usage hold the call's row lock (switchboard.ingest), so
-- the two triggers see each other's committed rows. Decrements are UPDATEs, never inserts, and
-- skip an organisation being deleted.

create table public.experiment_daily (
  organization_id uuid not null references public.organizations (id) on delete cascade,
  day date not null,
  -- no foreign key: a deleted agent's calls keep their arm (call_records sets the agent to null,
  -- which moves them to the agent-less bucket)
  agent_config_id uuid,
  arm text not null,
  calls bigint not null default 0,
  judged bigint not null default 0,          -- calls with a success verdict
  successes bigint not null default 0,
  rated bigint not null default 0,           -- calls with a sentiment
  positive bigint not null default 0,
  dur_n bigint not null default 0,           -- calls with a duration (call_records.duration_seconds)
  dur_sum bigint not null default 0,
  dur_sumsq bigint not null default 0,
  usage_seconds bigint not null default 0,   -- provider_usage.duration_seconds
  cost_amount numeric(16, 6) not null default 0,
  cpm_n bigint not null default 0,           -- calls with a cost per minute (usage duration > 0)
  cpm_sum double precision not null default 0,
  cpm_sumsq double precision not null default 0,
  constraint experiment_daily_key unique nulls not distinct (organization_id, day, arm, agent_config_id)
);

alter table public.experiment_daily enable row level security;
create policy tenant_read on public.experiment_daily for select to authenticated
  using (organization_id in (select private.user_org_ids()));

-- Add (sign > 0) or take out (sign < 0) one bucket's deltas.
create function private.experiment_bump(
  k_org uuid, k_day date, k_agent uuid, k_arm text, sign integer,
  d_calls bigint, d_judged bigint, d_successes bigint, d_rated bigint, d_positive bigint,
  d_dur_n bigint, d_dur_sum bigint, d_dur_sumsq bigint,
  d_usage_seconds bigint, d_cost numeric, d_cpm_n bigint, d_cpm_sum double precision, d_cpm_sumsq double precision
) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if sign > 0 then
    insert into public.experiment_daily as e (organization_id, day, agent_config_id, arm, calls, judged, successes,
      rated, positive, dur_n, dur_sum, dur_sumsq, usage_seconds, cost_amount, cpm_n, cpm_sum, cpm_sumsq)
    values (k_org, k_day, k_agent, k_arm, d_calls, d_judged, d_successes, d_rated, d_positive, d_dur_n, d_dur_sum,
      d_dur_sumsq, d_usage_seconds, d_cost, d_cpm_n, d_cpm_sum, d_cpm_sumsq)
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
    where organization_id = k_org and day = k_day and arm = k_arm and agent_config_id is not distinct from k_agent
      -- an organisation being deleted takes its rollup with it: updating a row of it would fail
      -- the foreign key check (a row already updated in this transaction is checked again)
      and exists (select 1 from public.organizations o where o.id = k_org);
  end if;
end
$$;

-- What a call's own row contributes (nothing without an arm or a start).
create function private.experiment_call(c public.call_records, sign integer) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  if c.experiment_arm is null or c.started_at is null then
    return;
  end if;
  perform private.experiment_bump(
    c.organization_id, (c.started_at at time zone 'utc')::date, c.agent_config_id, c.experiment_arm, sign,
    1, (c.successful is not null)::int, coalesce(c.successful, false)::int,
    (c.sentiment is not null)::int, coalesce(lower(c.sentiment) = 'positive', false)::int,
    (c.duration_seconds is not null)::int, coalesce(c.duration_seconds, 0),
    coalesce(c.duration_seconds::bigint * c.duration_seconds, 0),
    0, 0, 0, 0, 0);
end
$$;

-- What a call's usage row contributes, in the call's bucket.
create function private.experiment_usage(c public.call_records, u public.provider_usage, sign integer) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  cpm double precision := case when u.duration_seconds > 0 then (u.cost_amount / (u.duration_seconds / 60.0))::double precision end;
begin
  if c.experiment_arm is null or c.started_at is null then
    return;
  end if;
  perform private.experiment_bump(
    c.organization_id, (c.started_at at time zone 'utc')::date, c.agent_config_id, c.experiment_arm, sign,
    0, 0, 0, 0, 0, 0, 0, 0,
    u.duration_seconds, u.cost_amount, (cpm is not null)::int, coalesce(cpm, 0), coalesce(cpm * cpm, 0));
end
$$;

create function private.call_records_experiment_rollup() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  u public.provider_usage;
  moved boolean := tg_op = 'DELETE';
begin
  if tg_op = 'UPDATE' then
    if (old.organization_id, old.started_at, old.agent_config_id, old.experiment_arm, old.duration_seconds,
        old.successful, old.sentiment)
       is not distinct from
       (new.organization_id, new.started_at, new.agent_config_id, new.experiment_arm, new.duration_seconds,
        new.successful, new.sentiment) then
      return new;  -- transcripts, statuses, recordings: nothing the comparison reads
    end if;
    moved := (old.organization_id, (old.started_at at time zone 'utc')::date, old.agent_config_id, old.experiment_arm)
             is distinct from
             (new.organization_id, (new.started_at at time zone 'utc')::date, new.agent_config_id, new.experiment_arm);
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

create trigger call_records_experiment_rollup
after insert or update on public.call_records
for each row execute function private.call_records_experiment_rollup();

create trigger call_records_experiment_rollup_delete
before delete on public.call_records
for each row execute function private.call_records_experiment_rollup();

create function private.provider_usage_experiment_rollup() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  c public.call_records;
begin
  if tg_op = 'UPDATE' and (old.call_id, old.duration_seconds, old.cost_amount)
                          is not distinct from (new.call_id, new.duration_seconds, new.cost_amount) then
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    select * into c from public.call_records where id = old.call_id;
    if found then  -- not found: the call is being deleted, and its trigger took the cost out
      perform private.experiment_usage(c, old, -1);
    end if;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    select * into c from public.call_records where id = new.call_id;
    if found then
      perform private.experiment_usage(c, new, 1);
    end if;
  end if;
  return null;
end
$$;

create trigger provider_usage_experiment_rollup
after insert or update or delete on public.provider_usage
for each row execute function private.provider_usage_experiment_rollup();

-- Rebuild from the calls (after bulk loads that bypass the triggers; and now, for existing data).
create function private.rebuild_experiment_daily(p_org uuid default null) returns void
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
    coalesce(sum(u.duration_seconds), 0), coalesce(sum(u.cost_amount), 0),
    count(x.cpm), coalesce(sum(x.cpm), 0), coalesce(sum(x.cpm * x.cpm), 0)
  from public.call_records c
  left join public.provider_usage u on u.call_id = c.id
  cross join lateral (select case when u.duration_seconds > 0
                                  then (u.cost_amount / (u.duration_seconds / 60.0))::double precision end as cpm) x
  where c.experiment_arm is not null and c.started_at is not null and (p_org is null or c.organization_id = p_org)
  group by 1, 2, 3, 4;
$$;
revoke execute on function private.rebuild_experiment_daily(uuid) from public, anon, authenticated;

select private.rebuild_experiment_daily();
